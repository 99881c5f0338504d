package org.lora4j.inference.model;

import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Rotary position embedding (Su et al. 2021, RoFormer) in the HF {@code rotate_half} convention:
 * the head dimension is split into halves, {@code x' = x ⊙ cos + rotate_half(x) ⊙ sin} with
 * {@code rotate_half(x) = [-x₂, x₁]}, {@code cos = cos([p·f, p·f])} for inverse frequencies
 * {@code f_j = 1/θ^(2j/d)} rescaled by {@code rope_scaling}. The rotation is orthogonal, so its backward is
 * the inverse rotation: {@code dx = dy ⊙ cos + rotate_halfᵀ(dy ⊙ sin)} with {@code rotate_halfᵀ(z) = [z₂, −z₁]}.
 */
public final class RotaryEmbedding {
    private final float[] invFreq; // [hd/2]
    private final int headDim;

    public RotaryEmbedding(ModelConfig config) {
        this.headDim = config.headDim();
        int half = headDim / 2;
        double[] f = new double[half];
        for (int j = 0; j < half; j++) {
            // HF: 1 / base^(arange(0, dim, 2) / dim), in float32
            f[j] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * j) / headDim);
        }
        config.ropeScaling().apply(f);
        invFreq = new float[half];
        for (int j = 0; j < half; j++) {
            invFreq[j] = (float) f[j];
        }
    }

    /** The cos/sin tables for one batch of positions, each {@code [N, 1, hd]}, broadcast over heads. */
    public record Table(INDArray cos, INDArray sin) {
    }

    /** positions {@code [N]} (flattened {@code [B, T]}) → cos/sin tables in {@code dtype}. */
    public Table table(int[] positions, DataType dtype) {
        int n = positions.length;
        int half = headDim / 2;
        float[] cos = new float[n * headDim];
        float[] sin = new float[n * headDim];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < half; j++) {
                float angle = positions[i] * invFreq[j]; // float32 product, as HF
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[i * headDim + j] = c;
                cos[i * headDim + j + half] = c;
                sin[i * headDim + j] = s;
                sin[i * headDim + j + half] = s;
            }
        }
        return new Table(Tensors.fromFloats(cos, dtype, n, 1, headDim), Tensors.fromFloats(sin, dtype, n, 1, headDim));
    }

    /** x {@code [N, heads, hd]} → rotated copy {@code [N, heads, hd]}. */
    public static INDArray apply(INDArray x, Table t) {
        INDArray y = x.dup('c');
        rotate(y.reshape(x.size(0), x.size(1) * x.size(2)), (int) x.size(1), t, false);
        return y;
    }

    /** dy {@code [N, heads, hd]} → dx {@code [N, heads, hd]}. */
    public static INDArray backward(INDArray dy, Table t) {
        INDArray dx = dy.dup('c');
        rotate(dx.reshape(dy.size(0), dy.size(1) * dy.size(2)), (int) dy.size(1), t, true);
        return dx;
    }

    /**
     * Rotates x {@code [N, heads·hd]} (a projection's output, rows = tokens) in place; {@code inverse} applies the
     * transposed rotation, which is the backward: for j &lt; hd/2 with c = cos, s = sin of row n,
     * <pre>
     *   forward:  y_j = x_j·c_j − x_{j+h}·s_j;   y_{j+h} = x_{j+h}·c_{j+h} + x_j·s_{j+h}
     *   inverse:  x_j = y_j·c_j + y_{j+h}·s_{j+h};   x_{j+h} = y_{j+h}·c_{j+h} − y_j·s_j
     * </pre>
     */
    public static void rotate(INDArray x, int heads, Table t, boolean inverse) {
        int n = (int) x.size(0);
        int width = (int) x.size(1);
        int hd = width / heads;
        int half = hd / 2;
        Buf xb = Buf.of(x);
        Buf cb = Buf.of(t.cos());
        Buf sb = Buf.of(t.sin());
        Rows.forEach(n, width, r -> {
            long tab = (long) r * hd;
            for (int h = 0; h < heads; h++) {
                long base = (long) r * width + (long) h * hd;
                for (int j = 0; j < half; j++) {
                    double x1 = xb.get(base + j);
                    double x2 = xb.get(base + j + half);
                    double c1 = cb.get(tab + j);
                    double c2 = cb.get(tab + j + half);
                    double s1 = sb.get(tab + j);
                    double s2 = sb.get(tab + j + half);
                    if (inverse) {
                        xb.set(base + j, x1 * c1 + x2 * s2);
                        xb.set(base + j + half, x2 * c2 - x1 * s1);
                    } else {
                        xb.set(base + j, x1 * c1 - x2 * s1);
                        xb.set(base + j + half, x2 * c2 + x1 * s2);
                    }
                }
            }
        });
    }

    public float[] invFreq() {
        return invFreq.clone();
    }
}
