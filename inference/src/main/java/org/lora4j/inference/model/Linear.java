package org.lora4j.inference.model;

import org.lora4j.adapters.lora.LoraWeights;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A frozen linear layer in HF layout, with an optional LoRA branch from the {@link ForwardContext}:
 * <pre>
 *   forward:   y = x·Wᵀ + b (+ LoRA Δy)
 *   backward:  dx = dy·W (+ LoRA dx); a frozen W and b get no gradient;
 *              in full-parameter training dW += dyᵀ·x and db += Σₙ dy
 * </pre>
 *
 * @param name   HF module path, e.g. {@code model.layers.0.self_attn.q_proj}
 * @param weight {@code [out, in]}
 * @param bias   {@code [out]} or null
 */
public record Linear(String name, INDArray weight, INDArray bias) {

    /** The LoRA branch's cache, and x only when W itself is trained (a frozen W needs only dy for dx). */
    public record Cache(LoraBranch.Cache lora, INDArray x) {
    }

    public record Out(INDArray y, Cache cache) {
    }

    public int inFeatures() {
        return (int) weight.size(1);
    }

    public int outFeatures() {
        return (int) weight.size(0);
    }

    /** x {@code [N, in]} → y {@code [N, out]} through the frozen base only. */
    public INDArray forward(INDArray x) {
        return forward(x, ForwardContext.BASE).y();
    }

    public Out forward(INDArray x, ForwardContext ctx) {
        INDArray xc = Tensors.contiguous(x);
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.size(0), outFeatures());  // [N, out]
        Nd4j.gemm(xc, weight, y, false, true, 1.0, 0.0);
        if (bias != null) {
            y.addiRowVector(bias);
        }
        INDArray keptX = ctx.gradOf(name + ".weight") != null ? xc : null;
        LoraWeights lora = ctx.loraOf(name);
        if (lora == null) {
            return new Out(y, new Cache(null, keptX));
        }
        LoraBranch.Out branch = LoraBranch.forward(xc, lora, ctx.dropout());
        return new Out(y.addi(branch.delta()), new Cache(branch.cache(), keptX));
    }

    /** dy {@code [N, out]} → dx {@code [N, in]}; LoRA gradients are added into the adapter's buffers. */
    public INDArray backward(INDArray dy, Cache cache, ForwardContext ctx) {
        INDArray dyc = Tensors.contiguous(dy);
        INDArray dx = Nd4j.createUninitialized(dy.dataType(), dy.size(0), inFeatures());
        Nd4j.gemm(dyc, weight, dx, false, false, 1.0, 0.0);                           // dx = dy·W
        if (cache.lora() != null) {
            dx.addi(LoraBranch.backward(dyc, ctx.loraOf(name), cache.lora()));
        }
        INDArray dW = ctx.gradOf(name + ".weight");
        if (dW != null) {
            Nd4j.gemm(dyc, cache.x(), dW, true, false, 1.0, 1.0);                      // dW += dyᵀ·x
            INDArray db = bias == null ? null : ctx.gradOf(name + ".bias");
            if (db != null) {
                db.addi(dyc.sum(0));
            }
        }
        return dx;
    }
}
