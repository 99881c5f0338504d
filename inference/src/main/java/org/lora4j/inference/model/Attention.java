package org.lora4j.inference.model;

import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Causal grouped-query self-attention (Ainslie et al. 2023) as HF {@code LlamaAttention}:
 * {@code softmax(q·kᵀ/√hd + mask)·v} with RoPE on q and k; query head {@code h} reads KV head
 * {@code h / (nH/nKV)} (HF {@code repeat_kv}). Instead of repeating K and V, the query heads of one KV
 * group are stacked along the time axis: {@code [B, nKV, nRep·T, hd]}.
 */
public final class Attention {
    private Attention() {
    }

    /**
     * x {@code [B·T, H]} (already normed) → {@code [B·T, H]}. With a cache, keys/values of these T tokens are
     * stored at the cache's next slots and the queries attend over every filled slot.
     */
    public static INDArray forward(ModelConfig c, LayerWeights w, INDArray x, int batch, int t,
                                   RotaryEmbedding.Table rope, KvCache cache, INDArray mask) {
        int nH = c.numAttentionHeads();
        int nKv = c.numKeyValueHeads();
        int hd = c.headDim();
        int nRep = nH / nKv;

        INDArray q = heads(RotaryEmbedding.apply(w.qProj().forward(x).reshape(batch * t, nH, hd), rope), batch, t);
        INDArray k = heads(RotaryEmbedding.apply(w.kProj().forward(x).reshape(batch * t, nKv, hd), rope), batch, t);
        INDArray v = heads(w.vProj().forward(x).reshape(batch * t, nKv, hd), batch, t);
        // q [B, nH, T, hd]; k, v [B, nKV, T, hd]

        INDArray keys = k;
        INDArray values = v;
        if (cache != null) {
            int end = cache.length() + t;
            cache.write(w.index(), k, v);
            keys = cache.keys(w.index(), end);       // [B, nKV, S, hd]
            values = cache.values(w.index(), end);
        }
        int s = (int) keys.size(2);

        INDArray qg = q.reshape('c', batch, nKv, (long) nRep * t, hd);                  // [B, nKV, nRep·T, hd]
        INDArray scores = Nd4j.matmul(qg, keys, false, true, false).muli(1.0 / Math.sqrt(hd)); // [B, nKV, nRep·T, S]
        INDArray scores5 = scores.reshape('c', batch, nKv, nRep, t, s);                 // [B, nKV, nRep, T, S]
        scores5.addi(mask);                                                             // mask [B, 1, 1, T, S]
        INDArray probs = Nd4j.exec(new SoftMax(scores5, scores5, 4))[0];
        INDArray out = Nd4j.matmul(probs.reshape('c', batch, nKv, (long) nRep * t, s), values); // [B, nKV, nRep·T, hd]
        INDArray merged = out.reshape('c', batch, nH, t, hd).permute(0, 2, 1, 3)     // [B, T, nH, hd]
                .dup('c').reshape(batch * t, nH * hd);                                  // [B·T, nH·hd]
        return w.oProj().forward(merged);                                               // [B·T, H]
    }

    /** {@code [B·T, heads, hd]} → {@code [B, heads, T, hd]} (dense). */
    private static INDArray heads(INDArray x, int batch, int t) {
        return x.reshape('c', batch, t, x.size(1), x.size(2)).permute(0, 2, 1, 3).dup('c');
    }
}
