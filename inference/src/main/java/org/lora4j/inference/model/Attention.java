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
                        INDArray vv, INDArray probs, INDArray merged, RotaryEmbedding.Table rope, KeyBlocks blocks) {
    }

    /** Queries are processed in blocks of this many rows, each against only the keys some row of it may see. */
    static final int QUERY_BLOCK = 128;

    /**
     * For each batch row b and query block q, the key range {@code [lo, hi)} that covers every key a query of the
     * block may see ({@code [b][q]}). Causal attention then skips the upper triangle's blocks; keys inside the range
     * that a row may not see are still masked in the softmax, so any mask stays exact.
     */
    public record KeyBlocks(int[][] lo, int[][] hi) {
        static KeyBlocks of(Buf mask, int batch, int t, int s) {
            int blocks = (t + QUERY_BLOCK - 1) / QUERY_BLOCK;
            int[][] lo = new int[batch][blocks];
            int[][] hi = new int[batch][blocks];
            for (int b = 0; b < batch; b++) {
                for (int q = 0; q < blocks; q++) {
                    int l = s;
                    int h = 0;
                    for (int i = q * QUERY_BLOCK; i < Math.min(t, (q + 1) * QUERY_BLOCK); i++) {
                        long row = ((long) b * t + i) * s;
                        int j = 0;
                        while (j < l && mask.get(row + j) <= AttentionMask.MASKED / 2) {
                            j++;
                        }
                        l = Math.min(l, j);
                        int k = s;
                        while (k > h && mask.get(row + k - 1) <= AttentionMask.MASKED / 2) {
                            k--;
                        }
                        h = Math.max(h, k);
                    }
                    lo[b][q] = Math.min(l, h);
                    hi[b][q] = h;
                }
            }
            return new KeyBlocks(lo, hi);
        }
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
            keys = cache.keyStore(w.index());                                          // [B, nKV, capacity, hd]
            values = cache.valueStore(w.index());
        }
        boolean keep = cache == null;
        INDArray probs = arena.take(x.dataType(), keep ? (long) batch * nH * t : t, s);  // [B·nH·T, S] or [T, S]
        INDArray merged = arena.take(x.dataType(), (long) batch * t, qld);              // [B·T, nH·hd]
        Buf pb = Buf.of(probs);
        Buf mb = Buf.of(mask);
        KeyBlocks blocks = KeyBlocks.of(mb, batch, t, s);
        boolean vector = Rows.VECTOR && probs.dataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT
                && mask.dataType() == probs.dataType();
        java.nio.ByteBuffer pv = vector ? VectorRows.bytes(probs) : null;
        java.nio.ByteBuffer mv = vector ? VectorRows.bytes(mask) : null;
        double scale = 1.0 / Math.sqrt(hd);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nH; h++) {
                int g = h / nRep;
                long pOff = keep ? ((long) (b * nH + h) * t) * s : 0;
                for (int qb = 0; qb * QUERY_BLOCK < t; qb++) {
                    int i0 = qb * QUERY_BLOCK;
                    int m = Math.min(t, i0 + QUERY_BLOCK) - i0;
                    int lo = blocks.lo()[b][qb];
                    int n = blocks.hi()[b][qb] - lo;
                    long qOff = ((long) b * t + i0) * qld + (long) h * hd;                // rows i0.. of head h
                    long kOff = cache != null ? ((long) (b * nKv + g) * cache.capacity() + lo) * hd
                            : ((long) b * t + lo) * kvld + (long) g * hd;                // keys lo.. of group g
                    int kld = cache != null ? hd : kvld;
                    long pBlk = pOff + (long) i0 * s + lo;
                    Blas.gemm(false, true, m, n, hd, scale, q, qOff, qld, keys, kOff, kld, 0, probs, pBlk, s);
                    if (vector) {
                        VectorRows.softmaxBlock(pv, pBlk, s, mv, ((long) b * t + i0) * s + lo, m, n);
                    } else {
                        softmaxRows(pb, pBlk, s, mb, ((long) b * t + i0) * s + lo, m, n);
                    }
                    Blas.gemm(false, false, m, hd, n, 1.0, probs, pBlk, s, values, kOff, kld, 0, merged, qOff, qld);
                }
            }
        }
        Linear.Out oo = w.oProj().forward(merged, ctx);                                 // [B·T, H]
        if (!keep) {
            arena.give(probs, merged, q, k, v);
            return new Out(oo.y(), null);
        }
        return new Out(oo.y(), new Cache(qo.cache(), ko.cache(), vo.cache(), oo.cache(), q, k, v, probs, merged, rope, blocks));
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
        INDArray dS = arena.take(dy.dataType(), Math.min(t, QUERY_BLOCK), t);           // [block, T] per head
        Buf pb = Buf.of(cc.probs());
        Buf sb = Buf.of(dS);
        boolean vector = Rows.VECTOR && dS.dataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT;
        java.nio.ByteBuffer pv = vector ? VectorRows.bytes(cc.probs()) : null;
        java.nio.ByteBuffer sv = vector ? VectorRows.bytes(dS) : null;
        double scale = 1.0 / Math.sqrt(hd);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nH; h++) {
                int g = h / nRep;
                for (int qb = 0; qb * QUERY_BLOCK < t; qb++) {
                    int i0 = qb * QUERY_BLOCK;
                    int m = Math.min(t, i0 + QUERY_BLOCK) - i0;
                    int lo = cc.blocks().lo()[b][qb];
                    int n = cc.blocks().hi()[b][qb] - lo;
                    long qOff = ((long) b * t + i0) * qld + (long) h * hd;
                    long kOff = ((long) b * t + lo) * kvld + (long) g * hd;
                    long pBlk = ((long) (b * nH + h) * t + i0) * t + lo;
                    Blas.gemm(false, true, m, n, hd, 1.0, dOut, qOff, qld, cc.vv(), kOff, kvld, 0, dS, 0, t);        // dP = dO·vᵀ
                    Blas.gemm(true, false, n, hd, m, 1.0, cc.probs(), pBlk, t, dOut, qOff, qld, 1, dv, kOff, kvld);  // dv += Pᵀ·dO
                    if (vector) {
                        VectorRows.softmaxBackwardBlock(pv, pBlk, sv, t, m, n, (float) scale);
                    } else {
                        softmaxBackwardRows(pb, pBlk, sb, t, m, n, scale);
                    }                             // dS = P ⊙ (dP − Σ dP⊙P)·scale
                    Blas.gemm(false, false, m, hd, n, 1.0, dS, 0, t, cc.kr(), kOff, kvld, 0, dq, qOff, qld);         // dq = dS·k
                    Blas.gemm(true, false, n, hd, m, 1.0, dS, 0, t, cc.qr(), qOff, qld, 1, dk, kOff, kvld);          // dk += dSᵀ·q
                }
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

    /** dS = P ⊙ (dP − rowsum(dP ⊙ P))·scale over an {@code m × n} block, in place in dS (rows {@code ld} apart). */
    static void softmaxBackwardRows(Buf p, long pOff, Buf ds, int ld, int m, int n, double scale) {
        Rows.forEach(m, n, i -> {
            long pr = pOff + (long) i * ld;
            long sr = (long) i * ld;
            double dot = 0;
            for (int j = 0; j < n; j++) {
                dot += ds.get(sr + j) * p.get(pr + j);
            }
            for (int j = 0; j < n; j++) {
                double pj = p.get(pr + j);
                ds.set(sr + j, pj == 0 ? 0 : pj * (ds.get(sr + j) - dot) * scale);
            }
        });
    }

    /**
     * In place over an {@code m × n} block of scores (rows {@code ld} apart, already scaled by 1/√hd): adds the
     * mask block (same row stride, from {@code maskOff}) and normalizes each row; masked keys get exactly 0 without
     * an exp.
     */
    static void softmaxRows(Buf p, long off, int ld, Buf mask, long maskOff, int m, int n) {
        Rows.forEach(m, n, i -> {
            long r = off + (long) i * ld;
            long mr = maskOff + (long) i * ld;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                double mk = mask.get(mr + j);
                if (mk > AttentionMask.MASKED / 2) {
                    max = Math.max(max, p.get(r + j) + mk);
                }
            }
            double sum = 0;
            for (int j = 0; j < n; j++) {
                double mk = mask.get(mr + j);
                double e = mk > AttentionMask.MASKED / 2 ? Math.exp(p.get(r + j) + mk - max) : 0;
                p.set(r + j, e);
                sum += e;
            }
            double inv = 1.0 / sum;
            for (int j = 0; j < n; j++) {
                p.set(r + j, p.get(r + j) * inv);
            }
        });
    }
}
