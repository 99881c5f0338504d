package org.lora4j.inference.generate;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits, in HF's logits-processor order: repetition penalty,
 * temperature, top-k, top-p, then a draw from the softmax (or argmax when greedy).
 */
public final class Sampler {
    private final GenerationConfig config;
    private final SplittableRandom random;

    public Sampler(GenerationConfig config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
    }

    /** {@code seen}: every token id in the prompt and generated so far (for the repetition penalty). */
    public int next(float[] logits, BitSet seen) {
        double[] z = new double[logits.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = logits[i];
        }
        double penalty = config.repetitionPenalty();
        if (penalty != 1.0) {
            for (int id = seen.nextSetBit(0); id >= 0 && id < z.length; id = seen.nextSetBit(id + 1)) {
                z[id] = z[id] < 0 ? z[id] * penalty : z[id] / penalty;
            }
        }
        if (config.isGreedy()) {
            return argmax(z);
        }
        for (int i = 0; i < z.length; i++) {
            z[i] /= config.temperature();
        }
        if (config.topK() > 0 && config.topK() < z.length) {
            double[] sorted = z.clone();
            Arrays.sort(sorted);
            double kth = sorted[sorted.length - config.topK()];
            for (int i = 0; i < z.length; i++) {
                if (z[i] < kth) {
                    z[i] = Double.NEGATIVE_INFINITY;
                }
            }
        }
        double[] p = softmax(z);
        if (config.topP() < 1.0) {
            topP(p, config.topP());
        }
        return draw(p);
    }

    static int argmax(double[] z) {
        int best = 0;
        for (int i = 1; i < z.length; i++) {
            if (z[i] > z[best]) {
                best = i;
            }
        }
        return best;
    }

    static double[] softmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double[] p = new double[z.length];
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp(z[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /**
     * HF {@code TopPLogitsWarper}: in ascending order, drop tokens while the cumulative probability stays
     * {@code ≤ 1 − top_p}; the most likely token always survives. Renormalises in place.
     */
    static void topP(double[] p, double topP) {
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(p[a], p[b]));
        double cum = 0;
        double kept = 0;
        for (int r = 0; r < order.length; r++) {
            int i = order[r];
            cum += p[i];
            if (cum <= 1 - topP && r < order.length - 1) {
                p[i] = 0;
            } else {
                kept += p[i];
            }
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= kept;
        }
    }

    private int draw(double[] p) {
        double u = random.nextDouble();
        double cum = 0;
        int last = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                cum += p[i];
                last = i;
                if (u < cum) {
                    return i;
                }
            }
        }
        return last;
    }
}
