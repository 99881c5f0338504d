package org.lora4j.adapters;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A trainable tensor and its gradient buffer (same shape). Backward passes ADD into {@code grad}; zeroing it is
 * an explicit step of the training loop. Frozen weights are never wrapped in a Parameter, so they own no
 * gradient memory.
 *
 * @param name the name it is saved under, e.g. {@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}
 */
public record Parameter(String name, INDArray value, INDArray grad) {
    public Parameter {
        if (!java.util.Arrays.equals(value.shape(), grad.shape())) {
            throw new IllegalArgumentException(name + ": gradient shape " + java.util.Arrays.toString(grad.shape())
                    + " differs from the value's " + java.util.Arrays.toString(value.shape()));
        }
    }

    public void zeroGrad() {
        grad.assign(0);
    }
}
