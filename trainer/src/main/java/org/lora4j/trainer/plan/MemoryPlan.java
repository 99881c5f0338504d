package org.lora4j.trainer.plan;

import java.util.Locale;
import org.lora4j.inference.config.ModelConfig;

/**
 * The estimated memory of one training run, in bytes, as {@link Planner} counts it from the config and the recipe:
 * what the lora4j training graph holds at its peak (the end of a micro-batch's forward, plus the temporaries of one
 * layer's backward). Everything is computed in the recipe's {@code model.dtype}: {@code bytesPerValue} 4 (float32)
 * or 8 (float64). An estimate: the JVM heap, the tokenizer and the data, and arrays not yet collected by the garbage
 * collector come on top.
 *
 * @param baseParameters        parameters of the base model (tied embeddings counted once)
 * @param adaptedModules        linear layers with a LoRA adapter; 0 in full-parameter training
 * @param trainableParameters   Σ r·(in + out) over the adapted modules, or every base parameter ({@code full})
 * @param weights               the base weights in the compute dtype: baseParameters × bytesPerValue
 * @param adapterWeights        LoRA A and B; 0 in full-parameter training (the trained weights are the base)
 * @param gradients             one gradient buffer per trainable parameter
 * @param optimizerState        AdamW's m and v and its per-parameter update scratch: 3 × trainable
 * @param activations           what the forward keeps for backward, for one micro-batch
 * @param backwardTemporaries   the largest temporaries of one layer's backward, alive on top of the activations
 * @param batchSize             sequences per micro-batch
 * @param seqLen                tokens per sequence (data.max_seq_len: every sequence counted at full length)
 */
public record MemoryPlan(ModelConfig config, String method, int bytesPerValue, long baseParameters,
                         int adaptedModules, long trainableParameters, long weights, long adapterWeights,
                         long gradients, long optimizerState, Activations activations, long backwardTemporaries,
                         int batchSize, int seqLen, int gradientAccumulationSteps) {

    /**
     * The arrays one micro-batch's forward keeps until its backward, in bytes, summed over the layers.
     *
     * @param residual       the residual stream at every norm's input (each layer's x and h, the final norm's input)
     *                       and each norm's 1/rms: (2L + 1) × (H + 1) per token
     * @param attentionQkv   q (as qg), k and v after RoPE: L × (nH + 2·nKV) × head_dim per token
     * @param attentionProbs the softmax probabilities: L × nH × T per token (nH × T × T per sequence)
     * @param mlp            SwiGLU's gate output, up output and σ(gate): L × 3 × intermediate per token
     * @param linearInputs   the inputs of trained linears (the LoRA branch reads them in backward; a trained W needs
     *                       them for dW): the normed x shared by q/k/v, the merged heads for o_proj, the normed h
     *                       shared by gate/up, silu(g)·u for down_proj, the final normed x for lm_head
     * @param loraU          u = drop(x)·Aᵀ: r per token per adapted module
     * @param dropout        with lora_dropout &gt; 0: drop(x) and the dropout mask, 2 × in per token per adapted module
     * @param logits         logits and, in backward, softmax(logits): 2 × vocab per token
     * @param rope           the RoPE cos/sin tables shared by the layers: 2 × head_dim per token
     */
    public record Activations(long residual, long attentionQkv, long attentionProbs, long mlp, long linearInputs,
                              long loraU, long dropout, long logits, long rope) {
        public long total() {
            return residual + attentionQkv + attentionProbs + mlp + linearInputs + loraU + dropout + logits + rope;
        }
    }

    public boolean full() {
        return method.equals("full");
    }

    /** LoRA A/B (or nothing, for full training) + gradients + AdamW state. */
    public long trainingState() {
        return adapterWeights + gradients + optimizerState;
    }

    public long total() {
        return weights + trainingState() + activations.total() + backwardTemporaries;
    }

    /** Tokens per optimizer step: batch_size × gradient_accumulation_steps × max_seq_len. */
    public long tokensPerStep() {
        return (long) batchSize * gradientAccumulationSteps * seqLen;
    }

    /**
     * Off-heap memory to allow ND4J for this run, in whole GiB: the total plus 20% for arrays that are dead but not
     * yet freed by the garbage collector (for scripts/lora4j's LORA4J_MAX_OFFHEAP).
     */
    public long suggestedOffHeapGiB() {
        return (long) Math.ceil(total() * 1.2 / (1L << 30));
    }

    /** Bytes the checkpoint's stored dtype takes per parameter ({@code torch_dtype}), or 0 when unknown. */
    public int storedBytesPerValue() {
        return switch (config.torchDtype()) {
            case "bfloat16", "float16" -> 2;
            case "float32" -> 4;
            case "float64" -> 8;
            default -> 0;
        };
    }

    /** "512.0 MiB", "30.9 GiB" (binary units, one decimal). */
    public static String human(long bytes) {
        double kib = bytes / 1024.0;
        if (kib < 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", kib);
        }
        double mib = kib / 1024;
        if (mib < 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", mib);
        }
        return String.format(Locale.ROOT, "%.1f GiB", mib / 1024);
    }
}
