package org.lora4j.trainer.bench;

import org.lora4j.inference.config.ModelConfig;

/**
 * The model-FLOP and weight-byte arithmetic behind MFU and the decode bandwidth bound. One multiply-add = 2 FLOPs.
 * With N = frozen matmul parameters (every linear layer's in·out, lm_head included — the tied embedding counts as
 * lm_head; the embedding lookup counts nothing), N_lora = Σ r·(in+out) over adapted modules, L layers,
 * d = num_heads·head_dim and context T, per token:
 * <pre>
 *   training = 2N (forward) + 2N (backward, dx = dy·W only: W is frozen, no dW)
 *            + 6·N_lora (forward x·Aᵀ, u·Bᵀ: 2·N_lora; backward dB, du, dA, dx: 4·N_lora)
 *            + 12·L·T·d  (attention: QKᵀ and P·V are 4·T·d per layer forward, twice that backward)
 *   prefill  = 2N + 4·L·T·d                  decode at context S = 2N + 4·L·S·d
 * </pre>
 * Attention counts the full T×T score matrix (PaLM's convention, Chowdhery et al. 2022, appendix B), not the causal
 * half. Norms, RoPE, SiLU, softmax and the loss are not counted. Decode reads every weight once per token: the
 * matmul weights, the norms and one embedding row, plus the KV cache (2·L·kv_dim·S values).
 *
 * @param frozenMatmulParams N
 * @param loraParams         N_lora
 * @param normParams         the RMSNorm weights, (2L+1)·hidden
 */
public record FlopCount(long frozenMatmulParams, long loraParams, long normParams, int layers, int hidden,
                        int qDim, int kvDim) {

    /** The counts of {@code c} with an adapter of {@code loraParams} trainable parameters. */
    public static FlopCount of(ModelConfig c, long loraParams) {
        long h = c.hiddenSize();
        long perLayer = h * c.qDim() + 2 * h * c.kvDim() + (long) c.qDim() * h   // q, k, v, o
                + 3 * h * c.intermediateSize();                                   // gate, up, down
        long n = c.numHiddenLayers() * perLayer + (long) c.vocabSize() * h;       // + lm_head
        return new FlopCount(n, loraParams, (2L * c.numHiddenLayers() + 1) * h, c.numHiddenLayers(),
                c.hiddenSize(), c.qDim(), c.kvDim());
    }

    /** N_lora of rank {@code r} on all seven linear layers of every decoder layer (PEFT's "all-linear"). */
    public static long loraParamsAllLinear(ModelConfig c, int r) {
        long h = c.hiddenSize();
        long perLayer = (h + c.qDim()) + 2 * (h + c.kvDim()) + (c.qDim() + h) + 3 * (h + c.intermediateSize());
        return r * perLayer * c.numHiddenLayers();
    }

    /** Model FLOPs of one trained token at sequence length {@code t}. */
    public long trainingPerToken(int t) {
        return 4 * frozenMatmulParams + 6 * loraParams + 12L * layers * t * qDim;
    }

    /** Model FLOPs of one prompt token in a forward over {@code t} tokens (base model, no adapter). */
    public long prefillPerToken(int t) {
        return 2 * frozenMatmulParams + 4L * layers * t * qDim;
    }

    /** Model FLOPs of one decoded token that attends to {@code context} slots. */
    public long decodePerToken(int context) {
        return 2 * frozenMatmulParams + 4L * layers * context * qDim;
    }

    /** Bytes one decoded token must read at {@code context}: weights ({@code bytesPerValue} each) plus the KV cache. */
    public long decodeBytesPerToken(int context, int bytesPerValue) {
        return decodeBytesPerStep(context, 1, bytesPerValue);
    }

    /** Bytes one step of {@code batch} rows must read: the weights once, each row's KV cache and embedding row. */
    public long decodeBytesPerStep(int context, int batch, int bytesPerValue) {
        long weights = frozenMatmulParams + normParams;
        long perRow = hidden + 2L * layers * kvDim * context;                     // embedding row + KV cache
        return (weights + batch * perRow) * bytesPerValue;
    }
}
