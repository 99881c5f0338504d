package org.lora4j.inference.model;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inverted dropout on the LoRA branch input (PEFT's {@code lora_dropout}): keep with probability 1−p and scale
 * kept values by 1/(1−p). Masks are a pure function of (seed, module), so a resumed run redraws exactly the
 * masks of the run it continues; the training loop derives a new seed for every micro-batch.
 */
public record Dropout(double p, long seed) {
    public Dropout {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), found " + p);
        }
    }

    /** The scaled keep-mask {@code [rows, cols]} for {@code module}, or null when p = 0. */
    public INDArray mask(String module, long rows, long cols, DataType dtype) {
        if (p == 0) {
            return null;
        }
        SplittableRandom r = new SplittableRandom(mix(seed, module));
        double keep = 1.0 / (1.0 - p);
        double[] m = new double[Math.toIntExact(rows * cols)];
        for (int i = 0; i < m.length; i++) {
            m[i] = r.nextDouble() < p ? 0.0 : keep;
        }
        return Nd4j.create(m, new long[] {rows, cols}, DataType.DOUBLE).castTo(dtype);
    }

    /** A seed for one micro-batch of one optimizer step. */
    public static long seedFor(long runSeed, long step, int microBatch) {
        return mix(mix(runSeed, "step"), step * 1_000_003L + microBatch);
    }

    private static long mix(long seed, String s) {
        long h = seed ^ 0x9E3779B97F4A7C15L;
        for (int i = 0; i < s.length(); i++) {
            h = (h ^ s.charAt(i)) * 0x100000001B3L;
        }
        return new SplittableRandom(h).nextLong();
    }

    private static long mix(long a, long b) {
        return new SplittableRandom(a * 0x9E3779B97F4A7C15L + b).nextLong();
    }
}
