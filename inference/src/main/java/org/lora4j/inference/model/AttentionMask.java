package org.lora4j.inference.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Which keys each query may attend to. Slots index the sequence (or the KV cache): a query in slot {@code q}
 * sees key slot {@code s} iff {@code s ≤ q} (causal), the key is a real token ({@code keyValid}), both lie in
 * the same packed example ({@code segmentIds}) and, with a sliding window {@code w}, {@code q − s < w}
 * (HF Mistral). A query with no visible key (a padding slot) sees itself so that softmax stays finite.
 *
 * @param keyValid   {@code [B][slots]}, false for padding; null when every slot holds a token
 * @param segmentIds {@code [B][slots]} packed-example ids; null when each row is one example
 */
public record AttentionMask(boolean[][] keyValid, int[][] segmentIds) {

    /** Large negative additive bias: exp underflows to exactly 0 in FP32 and FP64. */
    public static final double MASKED = -1e30;

    public static AttentionMask causal() {
        return new AttentionMask(null, null);
    }

    public boolean allowed(int b, int querySlot, int keySlot, int window) {
        if (keySlot == querySlot) {
            return true;
        }
        if (keySlot > querySlot || (window > 0 && querySlot - keySlot >= window)) {
            return false;
        }
        if (keyValid != null && !keyValid[b][keySlot]) {
            return false;
        }
        return segmentIds == null || segmentIds[b][keySlot] == segmentIds[b][querySlot];
    }

    /**
     * The additive mask for queries in slots {@code [queryStart, queryStart+T)} over keys {@code [0, S)},
     * shaped {@code [B, 1, 1, T, S]} to broadcast over KV heads and query groups.
     */
    public INDArray build(int batch, int queryStart, int t, int s, int window, DataType dtype) {
        double[] m = new double[batch * t * s];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < t; i++) {
                int base = (b * t + i) * s;
                for (int j = 0; j < s; j++) {
                    m[base + j] = allowed(b, queryStart + i, j, window) ? 0.0 : MASKED;
                }
            }
        }
        return Nd4j.create(m, new long[] {batch, 1, 1, t, s}, DataType.DOUBLE).castTo(dtype);
    }
}
