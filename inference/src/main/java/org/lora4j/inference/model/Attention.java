package org.lora4j.inference.model;

import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Causal grouped-query self-attention (Ainslie et al. 2023) as HF {@code LlamaAttention}. Query head {@code h}
 * reads KV head {@code g = h / (nH/nKV)} (HF {@code repeat_kv}, without materializing the repeat). Per batch row
 * and head, on the projections' own {@code [B·T, heads·hd]} layout (one GEMM per head through {@link Blas} with
 * leading dimension {@code heads·hd}, no permute copies):
 * <pre>
 *   forward:   q, k = RoPE(x·Wqᵀ), RoPE(x·Wkᵀ);  v = x·Wvᵀ;  P = softmax(q·kᵀ/√hd + mask);  y = o_proj(P·v)
 *   backward:  dP = dO·vᵀ;  dv += Pᵀ·dO;  dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √hd;  dq = dS·k;  dk += dSᵀ·q
 * </pre>
 * The {@code +=} over the query heads of one group is repeat_kv's backward.
 */
public final class Attention {
    private Attention() {
    }

    /**
     * What backward needs; only produced by a forward without KV cache (training): q and k after RoPE and v
     * {@code [B·T, heads·hd]}, the probabilities {@code [B, nH, T, T]} and o_proj's input {@code [B·T, nH·hd]}.
     */
    public record Cache(Linear.Cache q, Linear.Cache k, Linear.Cache v, Linear.Cache o, INDArray qr, INDArray kr,
                        INDArray vv, INDArray probs, INDArray merged, RotaryEmbedding.Table rope) {
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
     * stored at the cache's next slots and the queries attend over every filled slot. mask {@code [B, 1, 1, T, S]}
     * is additive ({@link AttentionMask#MASKED} where a key is invisible).
     */
    public static Out forward(ModelConfig c, LayerWeights w, INDArray x, int batch, int t,
                              RotaryEmbedding.Table rope, KvCache cache, INDArray mask, ForwardContext ctx) {
        int nH = c.numAttentionHeads();
        int nKv = c.numKeyValueHeads();
        int hd = c.headDim();
        int nRep = nH / nKv;
        Arena arena = ctx.arena();

        Linear.Out qo = w.qProj().forward(x, ctx);                                       // [B·T, nH·hd]
        Linear.Out ko = w.kProj().forward(x, ctx);                                       // [B·T, nKV·hd]
        Linear.Out vo = w.vProj().forward(x, ctx);                                       // [B·T, nKV·hd]
        INDArray q = qo.y();
        INDArray k = ko.y();
        INDArray v = vo.y();
        RotaryEmbedding.rotate(q, nH, rope, false);
        RotaryEmbedding.rotate(k, nKv, rope, false);

        int qld = nH * hd;
        int kvld = nKv * hd;
        INDArray keys = k;
        INDArray values = v;
        int s = t;
        if (cache != null) {
            cache.writeRows(w.index(), k, v, batch, t);
            s = cache.length() + t;
            keys = cache.keysArray(w.index());                                          // [B, nKV, capacity, hd]
            values = cache.valuesArray(w.index());
        }
        boolean keep = cache == null;
        INDArray probs = arena.take(x.dataType(), keep ? (long) batch * nH * t : t, s);  // [B·nH·T, S] or [T, S]
        INDArray merged = arena.take(x.dataType(), (long) batch * t, qld);              // [B·T, nH·hd]
        Buf pb = Buf.of(probs);
        Buf mb = Buf.of(mask);
        double scale = 1.0 / Math.sqrt(hd);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nH; h++) {
                int g = h / nRep;
                long qOff = (long) b * t * qld + (long) h * hd;
                long kOff = cache != null ? ((long) (b * nKv + g) * cache.capacity()) * hd : (long) b * t * kvld + (long) g * hd;
                int kld = cache != null ? hd : kvld;
                long pOff = keep ? ((long) (b * nH + h) * t) * s : 0;
                Blas.gemm(false, true, t, s, hd, scale, q, qOff, qld, keys, kOff, kld, 0, probs, pOff, s);
                softmaxRows(pb, pOff, mb, (long) b * t * s, t, s);
                Blas.gemm(false, false, t, hd, s, 1.0, probs, pOff, s, values, kOff, kld, 0, merged, qOff, qld);
            }
        }
        Linear.Out oo = w.oProj().forward(merged, ctx);                                 // [B·T, H]
        if (!keep) {
            arena.give(probs, merged, q, k, v);
            return new Out(oo.y(), null);
        }
        return new Out(oo.y(), new Cache(qo.cache(), ko.cache(), vo.cache(), oo.cache(), q, k, v, probs, merged, rope));
    }

    /** dy {@code [B·T, H]} → dx {@code [B·T, H]}; gives back the cache's buffers. */
    public static INDArray backward(ModelConfig c, LayerWeights w, INDArray dy, int batch, int t, Cache cc,
                                    ForwardContext ctx) {
        int nH = c.numAttentionHeads();
        int nKv = c.numKeyValueHeads();
        int hd = c.headDim();
        int nRep = nH / nKv;
        int qld = nH * hd;
        int kvld = nKv * hd;
        Arena arena = ctx.arena();

        INDArray dOut = w.oProj().backward(dy, cc.o(), ctx);                             // [B·T, nH·hd]
        arena.give(cc.merged());
        INDArray dq = arena.take(dy.dataType(), (long) batch * t, qld);                  // [B·T, nH·hd]
        INDArray dk = arena.zeros(dy.dataType(), (long) batch * t, kvld);                // [B·T, nKV·hd]
        INDArray dv = arena.zeros(dy.dataType(), (long) batch * t, kvld);
        INDArray dS = arena.take(dy.dataType(), t, t);                                   // [T, T] per head
        Buf pb = Buf.of(cc.probs());
        Buf sb = Buf.of(dS);
        double scale = 1.0 / Math.sqrt(hd);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nH; h++) {
                int g = h / nRep;
                long qOff = (long) b * t * qld + (long) h * hd;
                long kOff = (long) b * t * kvld + (long) g * hd;
                long pOff = ((long) (b * nH + h) * t) * t;
                Blas.gemm(false, true, t, t, hd, 1.0, dOut, qOff, qld, cc.vv(), kOff, kvld, 0, dS, 0, t);   // dP = dO·vᵀ
                Blas.gemm(true, false, t, hd, t, 1.0, cc.probs(), pOff, t, dOut, qOff, qld, 1, dv, kOff, kvld); // dv += Pᵀ·dO
                for (int i = 0; i < t; i++) {                                                    // dS = P ⊙ (dP − Σ dP⊙P)·scale
                    long pr = pOff + (long) i * t;
                    long sr = (long) i * t;
                    double dot = 0;
                    for (int j = 0; j < t; j++) {
                        dot += sb.get(sr + j) * pb.get(pr + j);
                    }
                    for (int j = 0; j < t; j++) {
                        double p = pb.get(pr + j);
                        sb.set(sr + j, p == 0 ? 0 : p * (sb.get(sr + j) - dot) * scale);
                    }
                }
                Blas.gemm(false, false, t, hd, t, 1.0, dS, 0, t, cc.kr(), kOff, kvld, 0, dq, qOff, qld);      // dq = dS·k
                Blas.gemm(true, false, t, hd, t, 1.0, dS, 0, t, cc.qr(), qOff, qld, 1, dk, kOff, kvld);       // dk += dSᵀ·q
            }
        }
        arena.give(dS, dOut, cc.probs(), cc.qr(), cc.kr(), cc.vv());
        RotaryEmbedding.rotate(dq, nH, cc.rope(), true);
        RotaryEmbedding.rotate(dk, nKv, cc.rope(), true);
        INDArray dx = w.qProj().backward(dq, cc.q(), ctx);
        w.kProj().backwardInto(dk, cc.k(), ctx, dx, 1.0);
        w.vProj().backwardInto(dv, cc.v(), ctx, dx, 1.0);
        arena.give(dq, dk, dv);
        return dx;
    }

    /**
     * In place over rows {@code [off, off + T·S)} of scores already scaled by 1/√hd: adds the mask row by row
     * (rows of {@code mask} from {@code maskOff}) and normalizes; masked keys get exactly 0 without an exp.
     */
    static void softmaxRows(Buf p, long off, Buf mask, long maskOff, int t, int s) {
        for (int i = 0; i < t; i++) {
            long r = off + (long) i * s;
            long mr = maskOff + (long) i * s;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < s; j++) {
                double m = mask.get(mr + j);
                if (m > AttentionMask.MASKED / 2) {
                    max = Math.max(max, p.get(r + j) + m);
                }
            }
            double sum = 0;
            for (int j = 0; j < s; j++) {
                double m = mask.get(mr + j);
                double e = m > AttentionMask.MASKED / 2 ? Math.exp(p.get(r + j) + m - max) : 0;
                p.set(r + j, e);
                sum += e;
            }
            double inv = 1.0 / sum;
            for (int j = 0; j < s; j++) {
                p.set(r + j, p.get(r + j) * inv);
            }
        }
    }
}
