package org.lora4j.inference.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SIMD versions ({@code jdk.incubator.vector}, FLOAT arrays only) of the exp-heavy row kernels: masked softmax and its
 * backward, cross-entropy's logsumexp and gradient, SwiGLU's gate. Loaded only when {@link Rows#VECTOR} says the
 * module is present; the scalar kernels in the layers stay the reference (DOUBLE arrays, finite-difference tests)
 * and {@code VectorRowsTest} holds both to the same results.
 * <p>
 * Reproducible bit for bit, whatever the JIT has compiled yet: a killed and resumed run must repeat every loss
 * exactly. The Vector API's own {@code EXP} and {@code reduceLanes(ADD)} do not promise that (the interpreted
 * fallback and the compiled SVML/tree-reduction code may round differently), so exp is {@link #exp} below, built
 * from exactly rounded operations only, and sums are accumulated per lane and added in lane order ({@link #sum}).
 */
public final class VectorRows {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final FloatVector ONE = FloatVector.broadcast(F, 1f);
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;                 // ln 2 = LN2_HI + LN2_LO, LN2_HI exact in 9 bits
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;                     // 1.5·2²³: x + ROUND − ROUND rounds to an integer
    private static final float EXP_MIN = -87.33654f;                  // below: 0 (e⁻⁸⁷·³³⁶ is the smallest normal)
    private static final float EXP_MAX = 88.72283f;
    // Constants as vectors, so that exp stays small enough for the JIT to inline it into every kernel loop (a vector
    // that crosses a call which is not inlined is allocated on the heap, millions of times per step).
    private static final FloatVector V_LOG2E = FloatVector.broadcast(F, LOG2E);
    private static final FloatVector V_ROUND = FloatVector.broadcast(F, ROUND);
    private static final FloatVector V_NEG_LN2_HI = FloatVector.broadcast(F, -LN2_HI);
    private static final FloatVector V_NEG_LN2_LO = FloatVector.broadcast(F, -LN2_LO);
    private static final FloatVector V_P0 = FloatVector.broadcast(F, 1.9875691500e-4f);
    private static final FloatVector V_P1 = FloatVector.broadcast(F, 1.3981999507e-3f);
    private static final FloatVector V_P2 = FloatVector.broadcast(F, 8.3334519073e-3f);
    private static final FloatVector V_P3 = FloatVector.broadcast(F, 4.1665795894e-2f);
    private static final FloatVector V_P4 = FloatVector.broadcast(F, 1.6666665459e-1f);
    private static final FloatVector V_P5 = FloatVector.broadcast(F, 5.0000001201e-1f);

    /**
     * e^x per lane to about 1 ulp (Cephes' expf): x = n·ln2 + f with |f| ≤ ln2/2 (Cody–Waite), e^f by a degree-6
     * polynomial, 2ⁿ by building the exponent bits. Inputs below {@link #EXP_MIN} (masked scores, −1e30) give 0.
     */
    public static FloatVector exp(FloatVector x) {
        var under = x.compare(VectorOperators.LT, EXP_MIN);
        FloatVector xc = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector t = xc.fma(V_LOG2E, V_ROUND);                          // ROUND + n, n = round(x·log2 e)
        FloatVector n = t.sub(ROUND);
        FloatVector f = n.fma(V_NEG_LN2_LO, n.fma(V_NEG_LN2_HI, xc));
        FloatVector p = V_P0.fma(f, V_P1).fma(f, V_P2).fma(f, V_P3).fma(f, V_P4).fma(f, V_P5);
        p = p.mul(f).fma(f, f).add(ONE);                                 // e^f ≈ 1 + f + f²·P(f)
        // t's low mantissa bits hold n (its ulp is 1): shifting n + 126 into the exponent field gives 2^(n−1) without
        // a float-to-int conversion (2¹²⁸ would overflow the bits, hence n − 1 and the ×2 below)
        FloatVector scale = t.reinterpretAsInts().add(126).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale).mul(2f).blend(0f, under);
    }

    /** The lanes of v added in lane order (reproducible, unlike reduceLanes(ADD)). */
    static double sum(FloatVector v) {
        double s = 0;
        for (int i = 0; i < L; i++) {
            s += v.lane(i);
        }
        return s;
    }

    private VectorRows() {
    }

    /** The native memory of a dense FLOAT array; element i at byte {@code 4·i}. */
    static ByteBuffer bytes(INDArray a) {
        if (a.dataType() != DataType.FLOAT || a.ordering() != 'c' || a.elementWiseStride() != 1) {
            throw new IllegalArgumentException("vector kernels take dense c-order FLOAT arrays, got " + a.dataType());
        }
        ByteBuffer all = a.data().asNio().order(NATIVE);
        int from = (int) (a.offset() * 4);
        return all.position(from).slice().order(NATIVE);
    }

    /** An m × n block (rows ld apart, the mask block alike): each row p = softmax(p + mask), masked keys exactly 0. */
    static void softmaxBlock(ByteBuffer p, long off, int ld, ByteBuffer mask, long maskOff, int m, int n) {
        Rows.forEach(m, n, i -> {
            int r = (int) (off + (long) i * ld) * 4;
            int mr = (int) (maskOff + (long) i * ld) * 4;
            int vn = n - n % L;
            FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int j = 0; j < vn; j += L) {
                vmax = vmax.max(FloatVector.fromByteBuffer(F, p, r + 4 * j, NATIVE)
                        .add(FloatVector.fromByteBuffer(F, mask, mr + 4 * j, NATIVE)));
            }
            float max = vmax.reduceLanes(VectorOperators.MAX);
            for (int j = vn; j < n; j++) {
                max = Math.max(max, p.getFloat(r + 4 * j) + mask.getFloat(mr + 4 * j));
            }
            FloatVector vsum = FloatVector.zero(F);
            for (int j = 0; j < vn; j += L) {
                FloatVector e = exp(FloatVector.fromByteBuffer(F, p, r + 4 * j, NATIVE)
                        .add(FloatVector.fromByteBuffer(F, mask, mr + 4 * j, NATIVE)).sub(max)); // masked: exactly 0
                e.intoByteBuffer(p, r + 4 * j, NATIVE);
                vsum = vsum.add(e);
            }
            double sum = sum(vsum);
            for (int j = vn; j < n; j++) {
                float e = (float) Math.exp(p.getFloat(r + 4 * j) + mask.getFloat(mr + 4 * j) - max);
                p.putFloat(r + 4 * j, e);
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            for (int j = 0; j < vn; j += L) {
                FloatVector.fromByteBuffer(F, p, r + 4 * j, NATIVE).mul(inv).intoByteBuffer(p, r + 4 * j, NATIVE);
            }
            for (int j = vn; j < n; j++) {
                p.putFloat(r + 4 * j, p.getFloat(r + 4 * j) * inv);
            }
        });
    }

    /** dS = P ⊙ (dP − rowsum(dP ⊙ P))·scale over an m × n block, in place in ds (rows ld apart in both). */
    static void softmaxBackwardBlock(ByteBuffer p, long pOff, ByteBuffer ds, int ld, int m, int n, float scale) {
        Rows.forEach(m, n, i -> {
            int pr = (int) (pOff + (long) i * ld) * 4;
            int sr = i * ld * 4;
            int vn = n - n % L;
            FloatVector vdot = FloatVector.zero(F);
            for (int j = 0; j < vn; j += L) {
                vdot = FloatVector.fromByteBuffer(F, ds, sr + 4 * j, NATIVE)
                        .fma(FloatVector.fromByteBuffer(F, p, pr + 4 * j, NATIVE), vdot);
            }
            float dot = (float) sum(vdot);
            for (int j = vn; j < n; j++) {
                dot += ds.getFloat(sr + 4 * j) * p.getFloat(pr + 4 * j);
            }
            for (int j = 0; j < vn; j += L) {
                FloatVector pv = FloatVector.fromByteBuffer(F, p, pr + 4 * j, NATIVE);
                FloatVector.fromByteBuffer(F, ds, sr + 4 * j, NATIVE).sub(dot).mul(pv).mul(scale)
                        .intoByteBuffer(ds, sr + 4 * j, NATIVE);
            }
            for (int j = vn; j < n; j++) {
                ds.putFloat(sr + 4 * j, p.getFloat(pr + 4 * j) * (ds.getFloat(sr + 4 * j) - dot) * scale);
            }
        });
    }

    /** logsumexp of row i of z {@code [N, V]} (the sum of exponentials accumulated per lane in float). */
    static double logSumExp(ByteBuffer z, int i, int v) {
        int r = i * v * 4;
        int vn = v - v % L;
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < vn; j += L) {
            vmax = vmax.max(FloatVector.fromByteBuffer(F, z, r + 4 * j, NATIVE));
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (int j = vn; j < v; j++) {
            max = Math.max(max, z.getFloat(r + 4 * j));
        }
        FloatVector vsum = FloatVector.zero(F);
        for (int j = 0; j < vn; j += L) {
            vsum = vsum.add(exp(FloatVector.fromByteBuffer(F, z, r + 4 * j, NATIVE).sub(max)));
        }
        double sum = sum(vsum);
        for (int j = vn; j < v; j++) {
            sum += Math.exp(z.getFloat(r + 4 * j) - max);
        }
        return Math.log(sum) + max;
    }

    /** Row i of z ← exp(z − lse)·inv (softmax / count), in place. */
    static void softmaxScaled(ByteBuffer z, int i, int v, double lse, double inv) {
        int r = i * v * 4;
        int vn = v - v % L;
        float l = (float) lse;
        float s = (float) inv;
        for (int j = 0; j < vn; j += L) {
            exp(FloatVector.fromByteBuffer(F, z, r + 4 * j, NATIVE).sub(l)).mul(s).intoByteBuffer(z, r + 4 * j, NATIVE);
        }
        for (int j = vn; j < v; j++) {
            z.putFloat(r + 4 * j, (float) (Math.exp(z.getFloat(r + 4 * j) - lse) * inv));
        }
    }

    /** Row r of a = silu(g) ⊙ u over rows of {@code width}. */
    static void siluMul(ByteBuffer g, ByteBuffer u, ByteBuffer a, int r, int width) {
        int base = r * width * 4;
        int vn = width - width % L;
        for (int j = 0; j < vn; j += L) {
            int at = base + 4 * j;
            FloatVector gv = FloatVector.fromByteBuffer(F, g, at, NATIVE);
            FloatVector sig = ONE.div(exp(gv.neg()).add(1f));
            gv.mul(sig).mul(FloatVector.fromByteBuffer(F, u, at, NATIVE)).intoByteBuffer(a, at, NATIVE);
        }
        for (int j = vn; j < width; j++) {
            int at = base + 4 * j;
            double gi = g.getFloat(at);
            a.putFloat(at, (float) (gi / (1.0 + Math.exp(-gi)) * u.getFloat(at)));
        }
    }

    /** Row r of SwiGLU's backward in place: u ← da ⊙ u ⊙ silu'(g), g ← da ⊙ silu(g). */
    static void siluMulBackward(ByteBuffer g, ByteBuffer u, ByteBuffer da, int r, int width) {
        int base = r * width * 4;
        int vn = width - width % L;
        for (int j = 0; j < vn; j += L) {
            int at = base + 4 * j;
            FloatVector gv = FloatVector.fromByteBuffer(F, g, at, NATIVE);
            FloatVector s = ONE.div(exp(gv.neg()).add(1f));
            FloatVector d = FloatVector.fromByteBuffer(F, da, at, NATIVE);
            FloatVector uv = FloatVector.fromByteBuffer(F, u, at, NATIVE);
            d.mul(uv).mul(s).mul(gv.mul(ONE.sub(s)).add(ONE)).intoByteBuffer(u, at, NATIVE);
            d.mul(gv).mul(s).intoByteBuffer(g, at, NATIVE);
        }
        for (int j = vn; j < width; j++) {
            int at = base + 4 * j;
            double gi = g.getFloat(at);
            double s = 1.0 / (1.0 + Math.exp(-gi));
            double d = da.getFloat(at);
            u.putFloat(at, (float) (d * u.getFloat(at) * s * (1.0 + gi * (1.0 - s))));
            g.putFloat(at, (float) (d * gi * s));
        }
    }
}
