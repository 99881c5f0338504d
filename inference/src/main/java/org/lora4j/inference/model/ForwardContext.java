package org.lora4j.inference.model;

import java.util.function.Function;
import org.lora4j.adapters.lora.LoraWeights;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What one forward pass applies on top of the base weights: the LoRA weights of each adapted module (none for
 * the plain base), in training the dropout on the LoRA branch inputs, and — for full-parameter training only —
 * the gradient buffers of the base weights. Run state, never part of the model.
 *
 * @param lora     module path → its LoRA weights, or null when the module is not adapted
 * @param dropout  LoRA dropout of this pass, or null (evaluation, generation)
 * @param baseGrad HF tensor name (e.g. {@code model.norm.weight}) → its gradient buffer, or null for a frozen weight
 * @param arena    where the pass takes its activation buffers ({@link Arena#UNPOOLED}: fresh arrays)
 */
public record ForwardContext(Function<String, LoraWeights> lora, Dropout dropout, Function<String, INDArray> baseGrad,
                             Arena arena) {
    /** The frozen base: no adapter, no dropout. */
    public static final ForwardContext BASE = new ForwardContext(m -> null, null);

    /** LoRA (or nothing) over a frozen base. */
    public ForwardContext(Function<String, LoraWeights> lora, Dropout dropout) {
        this(lora, dropout, n -> null, Arena.UNPOOLED);
    }

    public ForwardContext(Function<String, LoraWeights> lora, Dropout dropout, Function<String, INDArray> baseGrad) {
        this(lora, dropout, baseGrad, Arena.UNPOOLED);
    }

    /** The same pass taking its buffers from {@code a}. */
    public ForwardContext withArena(Arena a) {
        return new ForwardContext(lora, dropout, baseGrad, a);
    }

    /** Full-parameter training: every base weight with a buffer in {@code grads} is trained. */
    public static ForwardContext fullTraining(Function<String, INDArray> grads) {
        return new ForwardContext(m -> null, null, grads);
    }

    /** Inference with an unmerged adapter. */
    public static ForwardContext withAdapter(Function<String, LoraWeights> lora) {
        return new ForwardContext(lora, null);
    }

    LoraWeights loraOf(String module) {
        return lora.apply(module);
    }

    /** The gradient buffer of a base tensor, or null when it is frozen. */
    INDArray gradOf(String tensor) {
        return baseGrad.apply(tensor);
    }
}
