package org.lora4j.inference.model;

import java.util.function.Function;
import org.lora4j.adapters.lora.LoraWeights;

/**
 * What one forward pass applies on top of the frozen weights: the LoRA weights of each adapted module (none for
 * the plain base) and, in training, the dropout on the LoRA branch inputs. Run state, never part of the model.
 *
 * @param lora    module path → its LoRA weights, or null when the module is not adapted
 * @param dropout LoRA dropout of this pass, or null (evaluation, generation)
 */
public record ForwardContext(Function<String, LoraWeights> lora, Dropout dropout) {
    /** The frozen base: no adapter, no dropout. */
    public static final ForwardContext BASE = new ForwardContext(m -> null, null);

    /** Inference with an unmerged adapter. */
    public static ForwardContext withAdapter(Function<String, LoraWeights> lora) {
        return new ForwardContext(lora, null);
    }

    LoraWeights loraOf(String module) {
        return lora.apply(module);
    }
}
