package org.lora4j.inference.model;

import org.lora4j.adapters.lora.LoraWeights;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A frozen linear layer in HF layout, with an optional LoRA branch from the {@link ForwardContext}:
 * <pre>
 *   forward:   y = x·Wᵀ + b (+ LoRA Δy)
 *   backward:  dx = dy·W (+ LoRA dx); a frozen W and b get no gradient;
 *              in full-parameter training dW += dyᵀ·x and db += Σₙ dy
 * </pre>
 * Outputs come from the context's {@link Arena}; the LoRA branch adds into y and dx in place.
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
        INDArray y = ctx.arena().take(x.dataType(), x.size(0), outFeatures());        // [N, out]
        Blas.gemm(xc, false, widened(weight, x), true, y, 1.0, 0.0);
        if (bias != null) {
            y.addiRowVector(widened(bias, x));
        }
        INDArray keptX = ctx.gradOf(name + ".weight") != null ? xc : null;
        if (ctx.isPerRow()) {                                   // one adapter per batch row; inference only
            LoraBranch.forwardRows(xc, ctx.loraOfRows(name), y, ctx.arena());
            return new Out(y, new Cache(null, keptX));
        }
        LoraWeights lora = ctx.loraOf(name);
        if (lora == null) {
            return new Out(y, new Cache(null, keptX));
        }
        LoraBranch.Cache branch = LoraBranch.forwardInto(xc, lora, ctx.dropout(), y, ctx.arena());
        return new Out(y, new Cache(branch, keptX));
    }

    /**
     * W in the activations' type: itself, or for BF16-stored weights a widened copy made for this product (the
     * ND4J path — prefill — of a BF16 model; the decode step reads BF16 directly, see org.lora4j.inference.decode).
     */
    private static INDArray widened(INDArray w, INDArray like) {
        return w.dataType() == like.dataType() ? w : w.castTo(like.dataType());
    }

    /** dy {@code [N, out]} → dx {@code [N, in]}; LoRA gradients are added into the adapter's buffers. */
    public INDArray backward(INDArray dy, Cache cache, ForwardContext ctx) {
        INDArray dx = ctx.arena().take(dy.dataType(), dy.size(0), inFeatures());
        backwardInto(dy, cache, ctx, dx, 0.0);
        return dx;
    }

    /**
     * As {@link #backward}, writing {@code dx = β·dx + dy·W (+ LoRA dx)} into a given {@code [N, in]} array, so
     * that the projections sharing one input add their dx into one buffer ({@code β = 1}). Gives back the LoRA
     * branch's cached buffers.
     */
    public void backwardInto(INDArray dy, Cache cache, ForwardContext ctx, INDArray dx, double beta) {
        ctx.checkTrainable(name + " backward");
        INDArray dyc = Tensors.contiguous(dy);
        Blas.gemm(dyc, false, widened(weight, dyc), false, dx, 1.0, beta);            // dx (+)= dy·W
        if (cache.lora() != null) {
            LoraBranch.backwardInto(dyc, ctx.loraOf(name), cache.lora(), dx, ctx.arena());
        }
        INDArray dW = ctx.gradOf(name + ".weight");
        if (dW != null) {
            Blas.gemm(dyc, true, cache.x(), false, dW, 1.0, 1.0);                       // dW += dyᵀ·x
            INDArray db = bias == null ? null : ctx.gradOf(name + ".bias");
            if (db != null) {
                db.addi(dyc.sum(0));
            }
        }
    }
}
