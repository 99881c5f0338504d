package org.lora4j.inference.decode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The attention of one decode step, one new token per row, as HF {@code LlamaAttention} with a KV cache: RoPE in the
 * {@code rotate_half} convention, the new key and value into the cache's slot {@code t}, then for query head {@code h}
 * of row {@code b}, reading KV head {@code g = h / (nH/nKV)} over the visible slots {@code j}:
 * <pre>
 *   q' = q ⊙ cos + rotate_half(q) ⊙ sin          (likewise k)
 *   p_j = softmax_j(q'·K[b,g,j] / √hd)             (slots the mask hides get p_j = 0)
 *   out[b, h] = Σ_j p_j · V[b,g,j]                  [hd]
 * </pre>
 * The cache holds {@code [B, nKV, capacity, hd]} per layer; as a {@link NativeMatrix} its row
 * {@code (b·nKV + g)·capacity + j} is one slot of one head. FP32 or BF16, like the weights.
 */
final class DecodeAttention {
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final int L = MatVec.L;
    /** Below this many multiply-adds per layer the calling thread does the attention alone. */
    static final long PARALLEL_WORK = 1 << 14;

    private final int nH;
    private final int nKv;
    private final int hd;
    private final float scale;
    private final long parallelWork;

    DecodeAttention(int numHeads, int numKvHeads, int headDim) {
        this(numHeads, numKvHeads, headDim, PARALLEL_WORK);
    }

    /** {@code parallelWork}: multiply-adds per layer from which the heads are shared across the pool. */
    DecodeAttention(int numHeads, int numKvHeads, int headDim, long parallelWork) {
        this.parallelWork = parallelWork;
        this.nH = numHeads;
        this.nKv = numKvHeads;
        this.hd = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * x {@code [heads·hd]} rotated in place with the row's tables {@code cos, sin [hd]}: for {@code j < hd/2},
     * {@code x'_j = x_j·cos_j − x_{j+hd/2}·sin_j} and {@code x'_{j+hd/2} = x_{j+hd/2}·cos_j + x_j·sin_j}.
     */
    void rope(float[] x, int heads, float[] cos, float[] sin) {
        int half = hd / 2;
        for (int h = 0; h < heads; h++) {
            int o = h * hd;
            for (int j = 0; j < half; j++) {
                float x1 = x[o + j];
                float x2 = x[o + j + half];
                x[o + j] = x1 * cos[j] + (-x2) * sin[j];
                x[o + j + half] = x2 * cos[j + half] + x1 * sin[j + half];
            }
        }
    }

    /** Stores each row's k, v {@code [nKV·hd]} at {@code slot} of the layer's caches. */
    void store(NativeMatrix keys, NativeMatrix values, int capacity, int slot, float[][] k, float[][] v) {
        for (int b = 0; b < k.length; b++) {
            for (int g = 0; g < nKv; g++) {
                int row = (b * nKv + g) * capacity + slot;
                keys.writeRow(row, k[b], g * hd);
                values.writeRow(row, v[b], g * hd);
            }
        }
    }

    /**
     * out {@code [B][nH·hd]} from the rotated queries (split for BF16 caches) over slots {@code [0, slot]};
     * {@code visible[b][j]} is the mask. Heads of all rows are shared across the pool when the work is large.
     */
    void attend(MatVec.Input q, NativeMatrix keys, NativeMatrix values, int capacity, int slot, boolean[][] visible,
                float[][] out, DecodePool pool) {
        int tasks = q.nb * nH;
        if ((long) tasks * (slot + 1) * hd < parallelWork) {
            for (int t = 0; t < tasks; t++) {
                head(q, keys, values, capacity, slot, visible, out, t / nH, t % nH);
            }
        } else {
            pool.run(tasks, 1, (from, to) -> {
                for (int t = from; t < to; t++) {
                    head(q, keys, values, capacity, slot, visible, out, t / nH, t % nH);
                }
            });
        }
    }

    private void head(MatVec.Input q, NativeMatrix keys, NativeMatrix values, int capacity, int slot,
                      boolean[][] visible, float[][] out, int b, int h) {
        int first = (b * nKv + h / (nH / nKv)) * capacity;   // cache row of slot 0
        // the slots of one head lie in one segment unless the cache passes 1 GiB mid-head: look rows up once
        boolean oneK = keys.segmentEnd(first) > first + slot;
        boolean oneV = values.segmentEnd(first) > first + slot;
        ByteBuffer kb = keys.segment(first);
        ByteBuffer vb = values.segment(first);
        int k0 = keys.offset(first);
        int v0 = values.offset(first);
        boolean[] vis = visible[b];
        float[] scores = new float[slot + 1];                // [S]
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= slot; j++) {
            if (vis[j]) {
                int row = first + j;
                scores[j] = oneK ? dot(keys.type, kb, k0 + j * keys.rowBytes, q, b, h * hd) * scale
                        : dot(keys.type, keys.segment(row), keys.offset(row), q, b, h * hd) * scale;
                max = Math.max(max, scores[j]);
            }
        }
        float sum = 0;
        for (int j = 0; j <= slot; j++) {
            float e = vis[j] ? (float) Math.exp(scores[j] - max) : 0f;
            scores[j] = e;
            sum += e;
        }
        float[] acc = new float[hd];                          // [hd]; BF16: [even values | odd values]
        for (int j = 0; j <= slot; j++) {
            if (vis[j]) {
                int row = first + j;
                if (oneV) {
                    axpy(scores[j] / sum, values.type, vb, v0 + j * values.rowBytes, acc);
                } else {
                    axpy(scores[j] / sum, values.type, values.segment(row), values.offset(row), acc);
                }
            }
        }
        if (values.type == NativeMatrix.Type.F32) {
            System.arraycopy(acc, 0, out[b], h * hd, hd);
        } else {
            int half = hd / 2;
            for (int i = 0; i < half; i++) {
                out[b][h * hd + 2 * i] = acc[i];
                out[b][h * hd + 2 * i + 1] = acc[half + i];
            }
        }
    }

    /** The cache row at byte {@code at} of {@code bb}, dotted with {@code q_b[off, off+hd)}. */
    private float dot(NativeMatrix.Type type, ByteBuffer bb, int at, MatVec.Input q, int b, int off) {
        float[] x = q.x[b];
        int i = 0;
        float s;
        if (type == NativeMatrix.Type.F32) {
            FloatVector a0 = FloatVector.zero(MatVec.F);
            FloatVector a1 = FloatVector.zero(MatVec.F);
            for (; i + 2 * L <= hd; i += 2 * L) {
                a0 = FloatVector.fromByteBuffer(MatVec.F, bb, at + 4 * i, NATIVE)
                        .fma(FloatVector.fromArray(MatVec.F, x, off + i), a0);
                a1 = FloatVector.fromByteBuffer(MatVec.F, bb, at + 4 * (i + L), NATIVE)
                        .fma(FloatVector.fromArray(MatVec.F, x, off + i + L), a1);
            }
            if (i + L <= hd) {
                a0 = FloatVector.fromByteBuffer(MatVec.F, bb, at + 4 * i, NATIVE)
                        .fma(FloatVector.fromArray(MatVec.F, x, off + i), a0);
                i += L;
            }
            s = a0.add(a1).reduceLanes(VectorOperators.ADD);
            for (; i < hd; i++) {
                s += bb.getFloat(at + 4 * i) * x[off + i];
            }
        } else {
            float[] xe = q.even[b];
            float[] xo = q.odd[b];
            int h0 = off >> 1;
            FloatVector a0 = FloatVector.zero(MatVec.F);
            FloatVector a1 = FloatVector.zero(MatVec.F);
            for (; i + 2 * L <= hd; i += 2 * L) {
                IntVector p = IntVector.fromByteBuffer(MatVec.I, bb, at + 2 * i, NATIVE);
                int h = h0 + (i >> 1);
                a0 = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(MatVec.F, xe, h), a0);
                a1 = p.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(MatVec.F, xo, h), a1);
            }
            s = a0.add(a1).reduceLanes(VectorOperators.ADD);
            for (; i < hd; i++) {
                s += NativeMatrix.bf16ToFloat(bb.getShort(at + 2 * i)) * x[off + i];
            }
        }
        return s;
    }

    /**
     * acc += p · (the cache row at byte {@code at} of {@code bb}); for a BF16 cache the even values go to
     * {@code acc[0, hd/2)}, the odd ones after them.
     */
    private void axpy(float p, NativeMatrix.Type type, ByteBuffer bb, int at, float[] acc) {
        FloatVector pv = FloatVector.broadcast(MatVec.F, p);
        int i = 0;
        if (type == NativeMatrix.Type.F32) {
            for (; i + L <= hd; i += L) {
                FloatVector.fromByteBuffer(MatVec.F, bb, at + 4 * i, NATIVE)
                        .fma(pv, FloatVector.fromArray(MatVec.F, acc, i)).intoArray(acc, i);
            }
            for (; i < hd; i++) {
                acc[i] += p * bb.getFloat(at + 4 * i);
            }
        } else {
            int half = hd / 2;
            for (; i + 2 * L <= hd; i += 2 * L) {
                IntVector pairs = IntVector.fromByteBuffer(MatVec.I, bb, at + 2 * i, NATIVE);
                int e = i >> 1;
                pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                        .fma(pv, FloatVector.fromArray(MatVec.F, acc, e)).intoArray(acc, e);
                pairs.and(0xFFFF0000).reinterpretAsFloats()
                        .fma(pv, FloatVector.fromArray(MatVec.F, acc, half + e)).intoArray(acc, half + e);
            }
            for (; i < hd; i += 2) {
                acc[i >> 1] += p * NativeMatrix.bf16ToFloat(bb.getShort(at + 2 * i));
                acc[half + (i >> 1)] += p * NativeMatrix.bf16ToFloat(bb.getShort(at + 2 * i + 2));
            }
        }
    }
}
