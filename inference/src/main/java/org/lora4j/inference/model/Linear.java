package org.lora4j.inference.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A frozen linear layer in HF layout: {@code y = x·Wᵀ + b}.
 *
 * @param name   HF module path, e.g. {@code model.layers.0.self_attn.q_proj}
 * @param weight {@code [out, in]}
 * @param bias   {@code [out]} or null
 */
public record Linear(String name, INDArray weight, INDArray bias) {

    public int inFeatures() {
        return (int) weight.size(1);
    }

    public int outFeatures() {
        return (int) weight.size(0);
    }

    /** x {@code [N, in]} → y {@code [N, out]}. */
    public INDArray forward(INDArray x) {
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.size(0), outFeatures()); // [N, out]
        Nd4j.gemm(Tensors.contiguous(x), weight, y, false, true, 1.0, 0.0);
        if (bias != null) {
            y.addiRowVector(bias);
        }
        return y;
    }
}
