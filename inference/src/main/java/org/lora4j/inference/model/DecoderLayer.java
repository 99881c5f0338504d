package org.lora4j.inference.model;

import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One pre-norm decoder block as HF {@code LlamaDecoderLayer}:
 * <pre>
 *   forward:   h = x + attn(rmsnorm₁(x));        y = h + mlp(rmsnorm₂(h))
 *   backward:  dh = dy + rmsnorm₂'(mlp'(dy));    dx = dh + rmsnorm₁'(attn'(dh))
 * </pre>
 * The residual sums are taken in place in the sublayers' output buffers; backward gives back every buffer the
 * forward took except its input x, which belongs to the caller.
 */
public final class DecoderLayer {
    private DecoderLayer() {
    }

    /** normed1, normed2: the two norms' outputs {@code [B·T, H]}, the sublayers' inputs. */
    public record Cache(RmsNorm.Cache norm1, INDArray normed1, Attention.Cache attn, RmsNorm.Cache norm2,
                        INDArray normed2, SwiGluMlp.Cache mlp) {
    }

    public record Out(INDArray y, Cache cache) {
    }

    /** x {@code [B·T, H]} → {@code [B·T, H]}. */
    public static Out forward(ModelConfig c, LayerWeights w, INDArray x, int batch, int t,
                              RotaryEmbedding.Table rope, KvCache kv, INDArray mask, ForwardContext ctx) {
        Arena arena = ctx.arena();
        RmsNorm.Out n1 = RmsNorm.forwardWithCache(x, w.inputLayernorm(), c.rmsNormEps(), arena);
        Attention.Out attn = Attention.forward(c, w, n1.y(), batch, t, rope, kv, mask, ctx);
        INDArray h = attn.y().addi(x);                                                   // [B·T, H]
        RmsNorm.Out n2 = RmsNorm.forwardWithCache(h, w.postAttentionLayernorm(), c.rmsNormEps(), arena);
        SwiGluMlp.Out mlp = SwiGluMlp.forward(w, n2.y(), ctx);
        INDArray y = mlp.y().addi(h);
        if (attn.cache() == null) {                                                      // inference: nothing kept
            arena.give(n1.y(), h, n2.y());
            return new Out(y, null);
        }
        return new Out(y, new Cache(n1.cache(), n1.y(), attn.cache(), n2.cache(), n2.y(), mlp.cache()));
    }

    /** dy {@code [B·T, H]} → dx {@code [B·T, H]} (dy's buffer, updated in place). */
    public static INDArray backward(ModelConfig c, LayerWeights w, INDArray dy, int batch, int t, Cache cache,
                                    ForwardContext ctx) {
        Arena arena = ctx.arena();
        String p = "model.layers." + w.index() + ".";
        INDArray dMlpIn = SwiGluMlp.backward(w, dy, cache.mlp(), ctx);
        INDArray dn2 = RmsNorm.backward(dMlpIn, w.postAttentionLayernorm(), cache.norm2(),
                ctx.gradOf(p + "post_attention_layernorm.weight"), arena);
        INDArray dh = dy.addi(dn2);
        arena.give(dMlpIn, dn2, cache.normed2(), cache.norm2().x());                     // norm2.x = h
        INDArray dAttnIn = Attention.backward(c, w, dh, batch, t, cache.attn(), ctx);
        INDArray dn1 = RmsNorm.backward(dAttnIn, w.inputLayernorm(), cache.norm1(),
                ctx.gradOf(p + "input_layernorm.weight"), arena);
        INDArray dx = dh.addi(dn1);
        arena.give(dAttnIn, dn1, cache.normed1());
        return dx;
    }
}
