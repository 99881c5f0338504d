package org.lora4j.inference.model;

import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One pre-norm decoder block as HF {@code LlamaDecoderLayer}:
 * {@code h = x + attn(rmsnorm(x));  y = h + mlp(rmsnorm(h))}.
 */
public final class DecoderLayer {
    private DecoderLayer() {
    }

    /** x {@code [B·T, H]} → {@code [B·T, H]}. */
    public static INDArray forward(ModelConfig c, LayerWeights w, INDArray x, int batch, int t,
                                   RotaryEmbedding.Table rope, KvCache cache, INDArray mask) {
        INDArray attnIn = RmsNorm.forward(x, w.inputLayernorm(), c.rmsNormEps());
        INDArray h = x.add(Attention.forward(c, w, attnIn, batch, t, rope, cache, mask));
        INDArray mlpIn = RmsNorm.forward(h, w.postAttentionLayernorm(), c.rmsNormEps());
        return h.addi(SwiGluMlp.forward(w, mlpIn));
    }
}
