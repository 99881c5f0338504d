package org.lora4j.inference.decode;

import jdk.incubator.vector.FloatVector;
import org.lora4j.inference.model.VectorRows;
import jdk.incubator.vector.VectorOperators;
import org.lora4j.inference.model.RotaryEmbedding;

/** The element-wise parts of the decode step, per batch row, in FP32: RMSNorm, SwiGLU's gate, residual, RoPE tables. */
final class DecodeOps {
    private static final FloatVector ONE = FloatVector.broadcast(MatVec.F, 1f);

    private DecodeOps() {
    }

    /** cos/sin {@code [hd]} of one position: the float arithmetic of {@link RotaryEmbedding#table}. */
    static void ropeTables(float[] invFreq, int position, float[] cosOut, float[] sinOut) {
        int half = invFreq.length;
        for (int j = 0; j < half; j++) {
            float angle = position * invFreq[j];
            cosOut[j] = cosOut[j + half] = (float) Math.cos(angle);
            sinOut[j] = sinOut[j + half] = (float) Math.sin(angle);
        }
    }

    /** {@code y_b = x_b / √(mean(x_b²) + eps) ⊙ w} (HF LlamaRMSNorm), then splits y for BF16 weights. */
    static void rmsNorm(float[][] in, float[] w, double eps, MatVec.Input y) {
        for (int b = 0; b < in.length; b++) {
            float[] xb = in[b];
            float[] yb = y.x[b];
            int i = 0;
            FloatVector acc = FloatVector.zero(MatVec.F);
            for (; i < MatVec.F.loopBound(xb.length); i += MatVec.L) {
                FloatVector xv = FloatVector.fromArray(MatVec.F, xb, i);
                acc = xv.fma(xv, acc);
            }
            float ss = acc.reduceLanes(VectorOperators.ADD);
            for (; i < xb.length; i++) {
                ss += xb[i] * xb[i];
            }
            float rstd = (float) (1.0 / Math.sqrt(ss / xb.length + eps));
            for (i = 0; i < xb.length; i++) {
                yb[i] = xb[i] * rstd * w[i];
            }
        }
        y.split();
    }

    /** {@code a_b = g·σ(g) ⊙ u} with σ the logistic function (SwiGLU), then splits a for BF16 weights. */
    static void siluTimes(float[][] g, float[][] u, MatVec.Input a) {
        for (int b = 0; b < g.length; b++) {
            float[] gb = g[b];
            float[] ub = u[b];
            float[] ab = a.x[b];
            int i = 0;
            for (; i < MatVec.F.loopBound(gb.length); i += MatVec.L) {
                FloatVector gv = FloatVector.fromArray(MatVec.F, gb, i);
                FloatVector sig = ONE.div(VectorRows.exp(gv.neg()).add(1f)); // reproducible exp (see VectorRows)
                sig.mul(gv).mul(FloatVector.fromArray(MatVec.F, ub, i)).intoArray(ab, i);
            }
            for (; i < gb.length; i++) {
                float sig = (float) (1.0 / (1.0 + Math.exp(-gb[i])));
                ab[i] = sig * gb[i] * ub[i];
            }
        }
        a.split();
    }

    /** {@code x += d}, row by row. */
    static void addInto(float[][] x, float[][] d) {
        for (int b = 0; b < x.length; b++) {
            for (int i = 0; i < x[b].length; i++) {
                x[b][i] += d[b][i];
            }
        }
    }
}
