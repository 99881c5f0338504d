package org.lora4j.inference.generate;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/** Log-softmax over logits rows and the sequence statistics built on it (NLL, perplexity). */
public final class LogProbs {
    private LogProbs() {
    }

    /** {@code log softmax} of each row, computed in double: {@code z − max − log Σ exp(z − max)}. */
    public static float[][] logSoftmax(float[][] logits) {
        float[][] out = new float[logits.length][];
        for (int t = 0; t < logits.length; t++) {
            float[] z = logits[t];
            double max = Double.NEGATIVE_INFINITY;
            for (float v : z) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (float v : z) {
                sum += Math.exp(v - max);
            }
            double lse = max + Math.log(sum);
            out[t] = new float[z.length];
            for (int i = 0; i < z.length; i++) {
                out[t][i] = (float) (z[i] - lse);
            }
        }
        return out;
    }

    /** {@code −Σ_t log p(ids[t+1] | ids[..t])}. */
    public static double sequenceNll(float[][] logprobs, int[] ids) {
        double nll = 0;
        for (int t = 0; t + 1 < ids.length; t++) {
            nll -= logprobs[t][ids[t + 1]];
        }
        return nll;
    }

    /** Indices of the k largest values, largest first. */
    public static int[] topK(float[] v, int k) {
        return IntStream.range(0, v.length).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> v[i]).reversed())
                .limit(Math.max(0, k)).mapToInt(Integer::intValue).toArray();
    }
}
