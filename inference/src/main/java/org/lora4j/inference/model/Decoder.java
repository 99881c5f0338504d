package org.lora4j.inference.model;

import java.util.HashMap;
import java.util.Map;
import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The configurable decoder-only transformer behind every supported architecture:
 * embed → N × {@link DecoderLayer} → final RMSNorm → lm_head (or the tied embeddings).
 * Holds only immutable weights; run state (KV cache, masks) is passed in.
 */
public final class Decoder {
    private final ModelWeights weights;
    private final RotaryEmbedding rope;

    public Decoder(ModelWeights weights) {
        this.weights = weights;
        this.rope = new RotaryEmbedding(weights.config());
    }

    public ModelConfig config() {
        return weights.config();
    }

    public ModelWeights weights() {
        return weights;
    }

    public RotaryEmbedding rope() {
        return rope;
    }

    /**
     * Runs ids {@code [B][T]} at positions {@code [B][T]} through every layer and returns the final-normed
     * hidden states {@code [B·T, H]}. With a cache, the tokens occupy its next T slots and attend to all
     * earlier ones; {@code mask} decides which slots are visible.
     */
    public INDArray hidden(int[][] ids, int[][] positions, AttentionMask mask, KvCache cache) {
        return hidden(ids, positions, mask, cache, ForwardContext.BASE);
    }

    /** As {@link #hidden(int[][], int[][], AttentionMask, KvCache)}, with an adapter applied unmerged. */
    public INDArray hidden(int[][] ids, int[][] positions, AttentionMask mask, KvCache cache, ForwardContext given) {
        ModelConfig c = weights.config();
        // Without a caller's arena, the layers still pass their buffers on to each other through a pool of this call;
        // only the result is a fresh array.
        boolean local = given.arena() == Arena.UNPOOLED;
        ForwardContext ctx = local ? given.withArena(Arena.pooled()) : given;
        int batch = ids.length;
        int t = ids[0].length;
        int start = cache == null ? 0 : cache.length();
        int s = start + t;
        if (s > c.maxPositionEmbeddings() && cache != null) {
            System.err.println("warning: sequence length " + s + " exceeds max_position_embeddings="
                    + c.maxPositionEmbeddings());
        }
        INDArray x = embed(flatten(ids, c.vocabSize()), ctx.arena());               // [B·T, H]
        RotaryEmbedding.Table table = rope.table(flattenPositions(positions, t), weights.computeType());
        Map<Integer, INDArray> masks = new HashMap<>();
        for (LayerWeights layer : weights.layers()) {
            int window = c.slidingWindowForLayer(layer.index());
            INDArray m = masks.computeIfAbsent(window,
                    w -> mask.build(batch, start, t, s, w, weights.computeType()));    // [B, 1, 1, T, S]
            INDArray in = x;
            x = DecoderLayer.forward(c, layer, x, batch, t, table, cache, m, ctx).y();
            if (cache != null) {
                ctx.arena().give(in);
            }
        }
        if (cache != null) {
            cache.advance(t);
        }
        INDArray out = RmsNorm.forwardWithCache(x, weights.norm(), c.rmsNormEps(), given.arena()).y();
        ctx.arena().give(x);
        return out;
    }

    /** hidden {@code [N, H]} → logits {@code [N, V]}. */
    public INDArray logits(INDArray hidden) {
        return lmHead().forward(hidden);
    }

    /** lm_head as a linear layer (the tied embedding matrix when {@code tie_word_embeddings}). */
    public Linear lmHead() {
        return new Linear("lm_head", weights.lmHead(), null);
    }

    /** Full forward: logits {@code [B·T, V]} for every position (causal, no padding). */
    public INDArray forward(int[][] ids) {
        int[][] pos = new int[ids.length][];
        for (int b = 0; b < ids.length; b++) {
            pos[b] = new int[ids[b].length];
            for (int i = 0; i < pos[b].length; i++) {
                pos[b][i] = i;
            }
        }
        return logits(hidden(ids, pos, AttentionMask.causal(), null));
    }

    /** Embedding lookup: ids {@code [N]} → rows of embed_tokens {@code [N, H]}. */
    INDArray embed(int[] ids, Arena arena) {
        INDArray e = weights.embedTokens();
        int h = (int) e.size(1);
        INDArray x = arena.take(weights.computeType(), ids.length, h);
        Buf src = Buf.of(e);
        Buf dst = Buf.of(x);
        for (int n = 0; n < ids.length; n++) {
            long from = (long) ids[n] * h;
            long to = (long) n * h;
            for (int j = 0; j < h; j++) {
                dst.set(to + j, src.get(from + j));
            }
        }
        return x;
    }

    static int[] flatten(int[][] ids, int vocab) {
        int t = ids[0].length;
        int[] flat = new int[ids.length * t];
        for (int b = 0; b < ids.length; b++) {
            if (ids[b].length != t) {
                throw new IllegalArgumentException("every row of a batch must have the same length: row 0 has " + t
                        + " tokens, row " + b + " has " + ids[b].length + " (pad the rows)");
            }
            for (int i = 0; i < t; i++) {
                int id = ids[b][i];
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("token id " + id + " at row " + b + ", position " + i
                            + " is outside the vocabulary [0, " + vocab + ")");
                }
                flat[b * t + i] = id;
            }
        }
        return flat;
    }

    static int[] flattenPositions(int[][] positions, int t) {
        int[] flat = new int[positions.length * t];
        for (int b = 0; b < positions.length; b++) {
            System.arraycopy(positions[b], 0, flat, b * t, t);
        }
        return flat;
    }
}
