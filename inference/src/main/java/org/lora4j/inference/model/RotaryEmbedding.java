package org.lora4j.inference.model;

import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

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
        return x.mul(t.cos()).addi(rotateHalf(x).muli(t.sin()));
    }

    /** dy {@code [N, heads, hd]} → dx {@code [N, heads, hd]}. */
    public static INDArray backward(INDArray dy, Table t) {
        INDArray ys = dy.mul(t.sin());
        long half = dy.size(2) / 2;
        INDArray z1 = ys.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, half));
        INDArray z2 = ys.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(half, 2 * half));
        return dy.mul(t.cos()).addi(Nd4j.concat(2, z2, z1.neg()));
    }

    /** {@code [-x₂, x₁]} over the last axis. */
    static INDArray rotateHalf(INDArray x) {
        long half = x.size(2) / 2;
        INDArray x1 = x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, half));
        INDArray x2 = x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(half, 2 * half));
        return Nd4j.concat(2, x2.neg(), x1);
    }

    public float[] invFreq() {
        return invFreq.clone();
    }
}
