package org.lora4j.inference.model;

import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Causal grouped-query self-attention (Ainslie et al. 2023) as HF {@code LlamaAttention}. Query head {@code h}
 * reads KV head {@code h / (nH/nKV)} (HF {@code repeat_kv}); instead of repeating K and V, the query heads of one
 * KV group are stacked along the time axis, {@code qg [B, nKV, nRep·T, hd]}:
 * <pre>
 *   forward:   q, k = RoPE(x·Wqᵀ), RoPE(x·Wkᵀ);  v = x·Wvᵀ;  P = softmax(qg·kᵀ/√hd + mask);  y = o_proj(P·v)
 *   backward:  dP = dO·vᵀ;  dv = Pᵀ·dO;  dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √hd;  dqg = dS·k;  dk = dSᵀ·qg
 * </pre>
 * Stacking makes {@code Pᵀ·dO} and {@code dSᵀ·qg} sum over the heads of a group, which is repeat_kv's backward.
 */
public final class Attention {
    private Attention() {
    }

    /** What backward needs; only produced by a forward without KV cache (training). */
    public record Cache(Linear.Cache q, Linear.Cache k, Linear.Cache v, Linear.Cache o,
                        INDArray qg, INDArray keys, INDArray values, INDArray probs, RotaryEmbedding.Table rope) {
    }

    public record Out(INDArray y, Cache cache) {
    }

    /** Frozen-base forward (generation): see {@link #forward(ModelConfig, LayerWeights, INDArray, int, int,
     * RotaryEmbedding.Table, KvCache, INDArray, ForwardContext)}. */
    public static INDArray forward(ModelConfig c, LayerWeights w, INDArray x, int batch, int t,
                                   RotaryEmbedding.Table rope, KvCache cache, INDArray mask) {
        return forward(c, w, x, batch, t, rope, cache, mask, ForwardContext.BASE).y();
    }

    /**
     * x {@code [B·T, H]} (already normed) → {@code [B·T, H]}. With a KV cache, keys/values of these T tokens are
     * stored at the cache's next slots and the queries attend over every filled slot.
     */
    public static Out forward(ModelConfig c, LayerWeights w, INDArray x, int batch, int t,
                              RotaryEmbedding.Table rope, KvCache cache, INDArray mask, ForwardContext ctx) {
        int nH = c.numAttentionHeads();
        int nKv = c.numKeyValueHeads();
        int hd = c.headDim();
        int nRep = nH / nKv;

        Linear.Out qo = w.qProj().forward(x, ctx);
        Linear.Out ko = w.kProj().forward(x, ctx);
        Linear.Out vo = w.vProj().forward(x, ctx);
        INDArray q = toHeads(RotaryEmbedding.apply(qo.y().reshape(batch * t, nH, hd), rope), batch, t);   // [B, nH, T, hd]
        INDArray k = toHeads(RotaryEmbedding.apply(ko.y().reshape(batch * t, nKv, hd), rope), batch, t);  // [B, nKV, T, hd]
        INDArray v = toHeads(vo.y().reshape(batch * t, nKv, hd), batch, t);                               // [B, nKV, T, hd]

        INDArray keys = k;
        INDArray values = v;
        if (cache != null) {
            int end = cache.length() + t;
            cache.write(w.index(), k, v);
            keys = cache.keys(w.index(), end);                                          // [B, nKV, S, hd]
            values = cache.values(w.index(), end);
        }
        int s = (int) keys.size(2);

        INDArray qg = q.reshape('c', batch, nKv, (long) nRep * t, hd);                  // [B, nKV, nRep·T, hd]
        INDArray scores = Nd4j.matmul(qg, keys, false, true, false).muli(1.0 / Math.sqrt(hd)); // [B, nKV, nRep·T, S]
        scores.reshape('c', batch, nKv, nRep, t, s).addi(mask);                         // mask [B, 1, 1, T, S]
        INDArray probs = Nd4j.exec(new SoftMax(scores, scores, 3))[0];                  // [B, nKV, nRep·T, S]
        INDArray out = Nd4j.matmul(probs, values);                                      // [B, nKV, nRep·T, hd]
        INDArray merged = fromHeads(out.reshape('c', batch, nH, t, hd), batch, t);      // [B·T, nH·hd]
        Linear.Out oo = w.oProj().forward(merged, ctx);                                 // [B·T, H]
        Cache saved = cache != null ? null
                : new Cache(qo.cache(), ko.cache(), vo.cache(), oo.cache(), qg, keys, values, probs, rope);
        return new Out(oo.y(), saved);
    }

    /** dy {@code [B·T, H]} → dx {@code [B·T, H]}. */
    public static INDArray backward(ModelConfig c, LayerWeights w, INDArray dy, int batch, int t, Cache cc,
                                    ForwardContext ctx) {
        int nH = c.numAttentionHeads();
        int nKv = c.numKeyValueHeads();
        int hd = c.headDim();
        int nRep = nH / nKv;

        INDArray dMerged = w.oProj().backward(dy, cc.o(), ctx);                               // [B·T, nH·hd]
        INDArray dOut = toHeads(dMerged.reshape(batch * t, nH, hd), batch, t)
                .reshape('c', batch, nKv, (long) nRep * t, hd);                               // [B, nKV, nRep·T, hd]
        INDArray dProbs = Nd4j.matmul(dOut, cc.values(), false, true, false);                // [B, nKV, nRep·T, S]
        INDArray dValues = Nd4j.matmul(cc.probs(), dOut, true, false, false);                // [B, nKV, S, hd]
        INDArray rowDot = dProbs.mul(cc.probs()).sum(true, 3);                               // [B, nKV, nRep·T, 1]
        INDArray dScores = dProbs.subi(rowDot).muli(cc.probs()).muli(1.0 / Math.sqrt(hd));
        INDArray dQg = Nd4j.matmul(dScores, cc.keys());                                      // [B, nKV, nRep·T, hd]
        INDArray dKeys = Nd4j.matmul(dScores, cc.qg(), true, false, false);                  // [B, nKV, S, hd]

        INDArray dq = RotaryEmbedding.backward(fromHeads(dQg.reshape('c', batch, nH, t, hd), batch, t)
                .reshape(batch * t, nH, hd), cc.rope()).reshape(batch * t, nH * hd);
        INDArray dk = RotaryEmbedding.backward(fromHeads(dKeys, batch, t).reshape(batch * t, nKv, hd), cc.rope())
                .reshape(batch * t, nKv * hd);
        INDArray dv = fromHeads(dValues, batch, t);
        INDArray dx = w.qProj().backward(dq, cc.q(), ctx);
        dx.addi(w.kProj().backward(dk, cc.k(), ctx));
        return dx.addi(w.vProj().backward(dv, cc.v(), ctx));
    }

    /** {@code [B·T, heads, hd]} → {@code [B, heads, T, hd]} (dense). */
    private static INDArray toHeads(INDArray x, int batch, int t) {
        return x.reshape('c', batch, t, x.size(1), x.size(2)).permute(0, 2, 1, 3).dup('c');
    }

    /** {@code [B, heads, T, hd]} → {@code [B·T, heads·hd]} (dense). */
    private static INDArray fromHeads(INDArray x, int batch, int t) {
        return x.permute(0, 2, 1, 3).dup('c').reshape(batch * t, x.size(1) * x.size(3));
    }
}
