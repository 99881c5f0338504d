package org.lora4j.trainer.schedule;

/** The learning-rate schedules of {@link LrSchedule}; recipes spell them in lower case ({@code cosine}). */
public enum ScheduleType {
    /** Linear warmup, then the peak rate: HF {@code get_constant_schedule_with_warmup}. */
    CONSTANT,
    /** Linear warmup, then linear decay to the floor at the last step: HF {@code get_linear_schedule_with_warmup}. */
    LINEAR,
    /** Linear warmup, then half a cosine down to the floor: HF {@code get_cosine_with_min_lr_schedule_with_warmup}. */
    COSINE
}
