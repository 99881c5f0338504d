package org.lora4j.trainer.schedule;

/**
 * Learning rate per optimizer step, as in Hugging Face transformers' {@code optimization.py}
 * ({@code get_constant_schedule_with_warmup}, {@code get_linear_schedule_with_warmup},
 * {@code get_cosine_with_min_lr_schedule_with_warmup}), which wrap a multiplier {@code lambda(s)} in PyTorch's
 * {@code LambdaLR}: the optimizer step with 0-based index {@code s} runs at {@code peak · lambda(s)}.
 *
 * <p>With {@code w} warmup steps, {@code T} total steps and floor ratio {@code f}:
 * <pre>
 *   warmup (s &lt; w):  lambda(s) = s / max(1, w)          (so the very first step runs at lr 0, exactly as in HF)
 *   constant:          lambda(s) = 1
 *   linear:            lambda(s) = max(0, (T − s) / max(1, T − w))                       (HF, when f = 0)
 *                      generalized: f + (1 − f) · that, so it ends at f·peak instead of 0
 *   cosine:            p = (s − w) / max(1, T − w);  c = 0.5 · (1 + cos(π · 2 · 0.5 · p));
 *                      lambda(s) = max(0, c · (1 − f) + f)                        (HF, num_cycles = 0.5)
 * </pre>
 * Like HF, the formulas are applied as they are past {@code T} (linear stays at the floor; cosine would rise again);
 * the training loop never asks for a step {@code >= T}.
 */
public sealed interface LrSchedule {

    /** The learning rate of the optimizer step with 0-based index {@code step}. */
    double lr(long step);

    /**
     * @param peakLr      the rate after warmup, {@code > 0}
     * @param warmupSteps {@code >= 0}
     * @param totalSteps  total optimizer steps of the run, {@code > 0} (used by LINEAR and COSINE)
     * @param minLrRatio  floor as a fraction of the peak, in [0, 1]; must be 0 for CONSTANT, which never decays
     */
    static LrSchedule of(ScheduleType type, double peakLr, long warmupSteps, long totalSteps, double minLrRatio) {
        if (!(peakLr > 0) || Double.isInfinite(peakLr)) {
            throw new IllegalArgumentException("peak learning rate must be > 0 and finite, found " + peakLr);
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmup steps must be >= 0, found " + warmupSteps);
        }
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
            throw new IllegalArgumentException("min_lr_ratio must be in [0, 1], found " + minLrRatio);
        }
        if (type != ScheduleType.CONSTANT && totalSteps <= 0) {
            throw new IllegalArgumentException(type.name().toLowerCase() + " schedule needs total steps > 0, found "
                    + totalSteps);
        }
        return switch (type) {
            case CONSTANT -> {
                if (minLrRatio != 0) {
                    throw new IllegalArgumentException("min_lr_ratio is " + minLrRatio + " but a constant schedule"
                            + " never decays; set it to 0 or use the linear or cosine schedule");
                }
                yield new Constant(peakLr, warmupSteps);
            }
            case LINEAR -> new Linear(peakLr, warmupSteps, totalSteps, minLrRatio);
            case COSINE -> new Cosine(peakLr, warmupSteps, totalSteps, minLrRatio);
        };
    }

    /** HF's warmup multiplier: {@code s / max(1, w)}. */
    private static double warmup(long step, long warmupSteps) {
        return (double) step / Math.max(1, warmupSteps);
    }

    record Constant(double peakLr, long warmupSteps) implements LrSchedule {
        @Override
        public double lr(long step) {
            return peakLr * (step < warmupSteps ? warmup(step, warmupSteps) : 1.0);
        }
    }

    record Linear(double peakLr, long warmupSteps, long totalSteps, double minLrRatio) implements LrSchedule {
        @Override
        public double lr(long step) {
            if (step < warmupSteps) {
                return peakLr * warmup(step, warmupSteps);
            }
            double decay = Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
            return peakLr * (minLrRatio + (1 - minLrRatio) * decay);
        }
    }

    record Cosine(double peakLr, long warmupSteps, long totalSteps, double minLrRatio) implements LrSchedule {
        private static final double NUM_CYCLES = 0.5;

        @Override
        public double lr(long step) {
            if (step < warmupSteps) {
                return peakLr * warmup(step, warmupSteps);
            }
            double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
            double factor = 0.5 * (1.0 + Math.cos(Math.PI * NUM_CYCLES * 2.0 * progress));
            return peakLr * Math.max(0.0, factor * (1 - minLrRatio) + minLrRatio);
        }
    }
}
