package org.lora4j.trainer.recipe;

import org.lora4j.trainer.schedule.ScheduleType;

/**
 * {@code schedule:} the learning-rate schedule (see {@code org.lora4j.trainer.schedule.LrSchedule}).
 *
 * @param type        constant, linear or cosine
 * @param warmupSteps linear warmup from 0 over this many optimizer steps
 * @param minLrRatio  the rate at the last step as a fraction of the peak (linear and cosine), in [0, 1]
 */
public record ScheduleSection(ScheduleType type, long warmupSteps, double minLrRatio) {

    public static final ScheduleSection DEFAULT = new ScheduleSection(ScheduleType.COSINE, 0, 0.0);

    public ScheduleSection {
        Require.check(type != null, "schedule.type", "must be one of constant, linear, cosine", null);
        Require.atLeast("schedule.warmup_steps", warmupSteps, 0);
        Require.check(minLrRatio >= 0 && minLrRatio <= 1, "schedule.min_lr_ratio", "must be in [0, 1]", minLrRatio);
        Require.check(type != ScheduleType.CONSTANT || minLrRatio == 0, "schedule.min_lr_ratio",
                "must be 0 with schedule.type constant (it never decays)", minLrRatio);
    }
}
