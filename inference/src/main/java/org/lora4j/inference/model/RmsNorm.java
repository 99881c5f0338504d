package org.lora4j.inference.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * RMSNorm (Zhang &amp; Sennrich 2019) as HF {@code LlamaRMSNorm}:
 * {@code y = x / sqrt(mean(x²) + eps) ⊙ weight}, computed per row.
 */
public final class RmsNorm {
    private RmsNorm() {
    }

    /** x {@code [N, H]}, weight {@code [H]} → y {@code [N, H]}. */
    public static INDArray forward(INDArray x, INDArray weight, double eps) {
        INDArray rstd = rstd(x, eps);                    // [N, 1]
        return x.mulColumnVector(rstd).muliRowVector(weight);
    }

    /** {@code 1 / sqrt(mean(x², last) + eps)} as a column {@code [N, 1]}. */
    static INDArray rstd(INDArray x, double eps) {
        INDArray ms = x.mul(x).mean(true, 1);            // [N, 1]
        return Transforms.pow(ms.addi(eps), -0.5, false);
    }
}
