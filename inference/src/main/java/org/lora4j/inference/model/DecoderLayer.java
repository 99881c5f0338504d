package org.lora4j.inference.model;

import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One pre-norm decoder block as HF {@code LlamaDecoderLayer}:
 * <pre>
 *   forward:   h = x + attn(rmsnorm₁(x));        y = h + mlp(rmsnorm₂(h))
 *   backward:  dh = dy + rmsnorm₂'(mlp'(dy));    dx = dh + rmsnorm₁'(attn'(dh))
 * </pre>
 */
public final class DecoderLayer {
    private DecoderLayer() {
    }

    public record Cache(RmsNorm.Cache norm1, Attention.Cache attn, RmsNorm.Cache norm2, SwiGluMlp.Cache mlp) {
    }

    public record Out(INDArray y, Cache cache) {
    }

    /** x {@code [B·T, H]} → {@code [B·T, H]}. */
    public static Out forward(ModelConfig c, LayerWeights w, INDArray x, int batch, int t,
                              RotaryEmbedding.Table rope, KvCache kv, INDArray mask, ForwardContext ctx) {
        RmsNorm.Out n1 = RmsNorm.forwardWithCache(x, w.inputLayernorm(), c.rmsNormEps());
        Attention.Out attn = Attention.forward(c, w, n1.y(), batch, t, rope, kv, mask, ctx);
        INDArray h = x.add(attn.y());
        RmsNorm.Out n2 = RmsNorm.forwardWithCache(h, w.postAttentionLayernorm(), c.rmsNormEps());
        SwiGluMlp.Out mlp = SwiGluMlp.forward(w, n2.y(), ctx);
        return new Out(h.add(mlp.y()), new Cache(n1.cache(), attn.cache(), n2.cache(), mlp.cache()));
    }

    /** dy {@code [B·T, H]} → dx {@code [B·T, H]}. */
    public static INDArray backward(ModelConfig c, LayerWeights w, INDArray dy, int batch, int t, Cache cache,
                                    ForwardContext ctx) {
        INDArray dMlpIn = SwiGluMlp.backward(w, dy, cache.mlp(), ctx);
        String p = "model.layers." + w.index() + ".";
        INDArray dh = dy.add(RmsNorm.backward(dMlpIn, w.postAttentionLayernorm(), cache.norm2(),
                ctx.gradOf(p + "post_attention_layernorm.weight")));
        INDArray dAttnIn = Attention.backward(c, w, dh, batch, t, cache.attn(), ctx);
        return dh.addi(RmsNorm.backward(dAttnIn, w.inputLayernorm(), cache.norm1(),
                ctx.gradOf(p + "input_layernorm.weight")));
    }
}
