package org.lora4j.inference.decode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Small-batch matrix–vector products straight from native weight memory: for rows {@code o} of W {@code [out, in]}
 * and batch rows {@code b}, {@code y_b[o] = Σ_i W[o,i]·x_b[i]}. Each weight row is streamed once and multiplied
 * with up to four inputs while it is in registers; more than four inputs take further passes over a block of
 * {@value #BLOCK} rows that is still in L1. Rows are read front to back, one stream per thread (interleaving
 * several rows' streams halved the DRAM throughput in a measurement on this machine). Loads from the direct
 * buffer ran as fast as {@code fromArray} on a heap copy (25–30 GB/s on one core), so the weights stay in ND4J's
 * memory. (A {@code ByteBuffer.slice} per row was faster with the rows in L2 but 10–30% slower streaming the real
 * weights: one allocation per row.)
 *
 * <p>BF16 rows are read as int lanes: on a little-endian machine lane {@code j} holds values {@code 2j} (low half)
 * and {@code 2j+1} (high half), so {@code lane << 16} and {@code lane & 0xFFFF0000} are those two values as FP32.
 * They multiply the even and odd entries of x, which {@link Input#split()} lays out once per product.
 */
final class MatVec {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final int BLOCK = 8;
    private static final int HIGH = 0xFFFF0000;

    private MatVec() {
    }

    /** The inputs of one product: {@code x [nb][cols]} and, for BF16 weights, its even and odd entries. */
    static final class Input {
        final int nb;
        final int cols;
        final float[][] x;     // [nb][cols]
        final float[][] even;  // [nb][cols/2]  x[2i]
        final float[][] odd;   // [nb][cols/2]  x[2i+1]

        Input(int nb, int cols) {
            this.nb = nb;
            this.cols = cols;
            x = new float[nb][cols];
            even = new float[nb][cols / 2];
            odd = new float[nb][cols / 2];
        }

        /** Refreshes {@link #even}/{@link #odd} after {@link #x} changed. */
        Input split() {
            for (int b = 0; b < nb; b++) {
                float[] xb = x[b];
                float[] e = even[b];
                float[] o = odd[b];
                for (int i = 0; i < e.length; i++) {
                    e[i] = xb[2 * i];
                    o[i] = xb[2 * i + 1];
                }
            }
            return this;
        }
    }

    /** {@code y[b][o] = W[o,:]·x_b} for {@code o ∈ [from, to)}, {@code b ∈ [b0, b1)}. */
    static void rows(NativeMatrix w, int from, int to, Input in, int b0, int b1, float[][] y) {
        if (w.cols != in.cols) {
            throw new IllegalArgumentException("matrix has " + w.cols + " columns but the input has " + in.cols);
        }
        int block = b1 - b0 <= 4 ? Integer.MAX_VALUE : BLOCK;
        for (int r = from; r < to; ) {
            int end = Math.min(Math.min(to, w.segmentEnd(r)), (int) Math.min(to, (long) r + block));
            ByteBuffer bb = w.segment(r);
            int base = w.offset(r);
            for (int b = b0; b < b1; b += 4) {
                int g = Math.min(4, b1 - b);
                if (w.type == NativeMatrix.Type.F32) {
                    switch (g) {
                        case 1 -> f32x1(bb, base, w.rowBytes, end - r, w.cols, in.x[b], y[b], r);
                        case 2 -> f32x2(bb, base, w.rowBytes, end - r, w.cols, in.x[b], in.x[b + 1], y[b], y[b + 1], r);
                        default -> f32x4(bb, base, w.rowBytes, end - r, w.cols, in, b, g, y, r);
                    }
                } else {
                    switch (g) {
                        case 1 -> bf16x1(bb, base, w.rowBytes, end - r, w.cols, in, b, y[b], r);
                        default -> bf16x4(bb, base, w.rowBytes, end - r, w.cols, in, b, g, y, r);
                    }
                }
            }
            r = end;
        }
    }

    private static void f32x1(ByteBuffer bb, int base, int rowBytes, int n, int cols, float[] x, float[] y, int o) {
        int vec = F.loopBound(x.length);     // = cols; bounding by the array lets C2 drop its range checks
        for (int k = 0; k < n; k++) {
            int row = base + k * rowBytes;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            int i = 0;
            for (; i + 2 * L <= vec; i += 2 * L) {
                a0 = FloatVector.fromByteBuffer(F, bb, row + 4 * i, NATIVE).fma(FloatVector.fromArray(F, x, i), a0);
                a1 = FloatVector.fromByteBuffer(F, bb, row + 4 * (i + L), NATIVE)
                        .fma(FloatVector.fromArray(F, x, i + L), a1);
            }
            if (i < vec) {
                a0 = FloatVector.fromByteBuffer(F, bb, row + 4 * i, NATIVE).fma(FloatVector.fromArray(F, x, i), a0);
                i += L;
            }
            float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
            for (; i < cols; i++) {
                s += bb.getFloat(row + 4 * i) * x[i];
            }
            y[o + k] = s;
        }
    }

    private static void f32x2(ByteBuffer bb, int base, int rowBytes, int n, int cols, float[] x0, float[] x1,
                              float[] y0, float[] y1, int o) {
        int vec = F.loopBound(x0.length);    // = cols
        for (int k = 0; k < n; k++) {
            int row = base + k * rowBytes;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            int i = 0;
            for (; i < vec; i += L) {
                FloatVector w = FloatVector.fromByteBuffer(F, bb, row + 4 * i, NATIVE);
                a0 = w.fma(FloatVector.fromArray(F, x0, i), a0);
                a1 = w.fma(FloatVector.fromArray(F, x1, i), a1);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            float s1 = a1.reduceLanes(VectorOperators.ADD);
            for (; i < cols; i++) {
                float w = bb.getFloat(row + 4 * i);
                s0 += w * x0[i];
                s1 += w * x1[i];
            }
            y0[o + k] = s0;
            y1[o + k] = s1;
        }
    }

    /** Three or four inputs ({@code g}); with three, the fourth accumulator repeats input 2 and is dropped. */
    private static void f32x4(ByteBuffer bb, int base, int rowBytes, int n, int cols, Input in, int b, int g,
                              float[][] y, int o) {
        float[] x0 = in.x[b];
        float[] x1 = in.x[b + 1];
        float[] x2 = in.x[b + 2];
        float[] x3 = in.x[b + g - 1];
        int vec = F.loopBound(x0.length);    // = cols
        for (int k = 0; k < n; k++) {
            int row = base + k * rowBytes;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            int i = 0;
            for (; i < vec; i += L) {
                FloatVector w = FloatVector.fromByteBuffer(F, bb, row + 4 * i, NATIVE);
                a0 = w.fma(FloatVector.fromArray(F, x0, i), a0);
                a1 = w.fma(FloatVector.fromArray(F, x1, i), a1);
                a2 = w.fma(FloatVector.fromArray(F, x2, i), a2);
                a3 = w.fma(FloatVector.fromArray(F, x3, i), a3);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            float s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD);
            float s3 = a3.reduceLanes(VectorOperators.ADD);
            for (; i < cols; i++) {
                float w = bb.getFloat(row + 4 * i);
                s0 += w * x0[i];
                s1 += w * x1[i];
                s2 += w * x2[i];
                s3 += w * x3[i];
            }
            y[b][o + k] = s0;
            y[b + 1][o + k] = s1;
            y[b + 2][o + k] = s2;
            if (g == 4) {
                y[b + 3][o + k] = s3;
            }
        }
    }

    private static void bf16x1(ByteBuffer bb, int base, int rowBytes, int n, int cols, Input in, int b, float[] y,
                               int o) {
        float[] x = in.x[b];
        float[] xe = in.even[b];
        float[] xo = in.odd[b];
        int vec = cols - cols % (2 * L);
        for (int k = 0; k < n; k++) {
            int row = base + k * rowBytes;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            int i = 0;
            for (; i < vec; i += 2 * L) {
                IntVector p = IntVector.fromByteBuffer(I, bb, row + 2 * i, NATIVE);
                int h = i >> 1;
                a0 = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, xe, h), a0);
                a1 = p.and(HIGH).reinterpretAsFloats().fma(FloatVector.fromArray(F, xo, h), a1);
            }
            float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
            for (; i < cols; i++) {
                s += NativeMatrix.bf16ToFloat(bb.getShort(row + 2 * i)) * x[i];
            }
            y[o + k] = s;
        }
    }

    /** Two to four inputs ({@code g}); unused accumulators repeat the last input and are dropped. */
    private static void bf16x4(ByteBuffer bb, int base, int rowBytes, int n, int cols, Input in, int b, int g,
                               float[][] y, int o) {
        int b1 = b + 1;
        int b2 = b + Math.min(2, g - 1);
        int b3 = b + g - 1;
        float[] e0 = in.even[b];
        float[] e1 = in.even[b1];
        float[] e2 = in.even[b2];
        float[] e3 = in.even[b3];
        float[] o0 = in.odd[b];
        float[] o1 = in.odd[b1];
        float[] o2 = in.odd[b2];
        float[] o3 = in.odd[b3];
        int vec = cols - cols % (2 * L);
        for (int k = 0; k < n; k++) {
            int row = base + k * rowBytes;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            int i = 0;
            for (; i < vec; i += 2 * L) {
                IntVector p = IntVector.fromByteBuffer(I, bb, row + 2 * i, NATIVE);
                FloatVector we = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector wo = p.and(HIGH).reinterpretAsFloats();
                int h = i >> 1;
                a0 = wo.fma(FloatVector.fromArray(F, o0, h), we.fma(FloatVector.fromArray(F, e0, h), a0));
                a1 = wo.fma(FloatVector.fromArray(F, o1, h), we.fma(FloatVector.fromArray(F, e1, h), a1));
                a2 = wo.fma(FloatVector.fromArray(F, o2, h), we.fma(FloatVector.fromArray(F, e2, h), a2));
                a3 = wo.fma(FloatVector.fromArray(F, o3, h), we.fma(FloatVector.fromArray(F, e3, h), a3));
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            float s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD);
            float s3 = a3.reduceLanes(VectorOperators.ADD);
            for (; i < cols; i++) {
                float w = NativeMatrix.bf16ToFloat(bb.getShort(row + 2 * i));
                s0 += w * in.x[b][i];
                s1 += w * in.x[b1][i];
                s2 += w * in.x[b2][i];
                s3 += w * in.x[b3][i];
            }
            y[b][o + k] = s0;
            y[b1][o + k] = s1;
            if (g >= 3) {
                y[b2][o + k] = s2;
            }
            if (g == 4) {
                y[b3][o + k] = s3;
            }
        }
    }

    /**
     * {@code y[o] += Σ_j B[o,j]·u[j]} for {@code o ∈ [from, to)}: the second factor of a LoRA branch, from
     * {@code bt = Bᵀ [r, out]} (a heap copy: B's rows are only r values long, too short to vectorize along).
     */
    static void addLowRank(float[] bt, int r, int out, int from, int to, float[] u, float[] y) {
        int vecEnd = from + F.loopBound(to - from);
        for (int j = 0; j < r; j++) {
            FloatVector uj = FloatVector.broadcast(F, u[j]);
            int col = j * out;
            int o = from;
            for (; o < vecEnd; o += L) {
                FloatVector.fromArray(F, bt, col + o).fma(uj, FloatVector.fromArray(F, y, o)).intoArray(y, o);
            }
            for (; o < to; o++) {
                y[o] += bt[col + o] * u[j];
            }
        }
    }

    /** {@code Bᵀ [r, out]} of B {@code [out, r]}, in FP32 on the heap. */
    static float[] transposed(NativeMatrix bm) {
        int out = bm.rows;
        int r = bm.cols;
        float[] row = new float[r];
        float[] bt = new float[Math.multiplyExact(out, r)];
        for (int o = 0; o < out; o++) {
            bm.readRow(o, row, 0);
            for (int j = 0; j < r; j++) {
                bt[j * out + o] = row[j];
            }
        }
        return bt;
    }
}
