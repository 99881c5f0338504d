package org.lora4j.inference.decode;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import org.lora4j.adapters.lora.LoraWeights;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.model.AttentionMask;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.KvCache;
import org.lora4j.inference.model.LayerWeights;
import org.lora4j.inference.model.Linear;
import org.lora4j.inference.model.ModelWeights;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The decode step in plain Java with {@code jdk.incubator.vector}: the same math as {@link Decoder#hidden} plus
 * lm_head for one new token per row, without ND4J's per-op cost. Each layer, for the B rows at once:
 * <pre>
 *   h = rmsnorm(x) ⊙ w₁;   q, k, v = h·W_qᵀ + b_q, ... (+ s·B·(A·h) per adapted module);   RoPE(q, k)
 *   x = x + o_proj(attention(q, K, V));   h = rmsnorm(x) ⊙ w₂;   x = x + down(silu(h·W_gᵀ) ⊙ (h·W_uᵀ))
 * </pre>
 * then {@code logits = rmsnorm(x) ⊙ w_f · W_lmᵀ}. The weights are read in place from the ND4J arrays' native
 * memory (FP32 or BF16, see {@link MatVec}) once per step for all rows; output rows are shared across
 * {@link DecodePool}. q/k/v and gate/up are one parallel loop each.
 * Loaded only through {@link FastDecode}, once the Vector API module is known to be present.
 */
final class VectorDecodeStep implements DecodeStep {
    /** One linear layer: W {@code [out, in]} in native memory, bias {@code [out]} or null, its HF module path. */
    private record Proj(String name, NativeMatrix w, float[] bias) {
        static Proj of(Linear l) {
            return new Proj(l.name(), view(l.weight(), l.name() + ".weight"),
                    l.bias() == null ? null : view(l.bias(), l.name() + ".bias").toFloats());
        }
    }

    private record Layer(int index, int window, float[] inputNorm, Proj[] qkv, Proj[] o, float[] postNorm,
                         Proj[] gateUp, Proj[] down) {
    }

    /** The LoRA branch of one module for one row: {@code u = s·A·x_b [r]} and {@code Bᵀ [r, out]}. */
    private record LowRank(float[] bt, int r, int out, float[] u) {
    }

    /** Weight bytes per piece of a parallel loop: the unit a thread takes (and steals) at a time. */
    static final int GRAIN_BYTES = 64 << 10;

    private final ModelConfig c;
    private final ForwardContext ctx;
    private final int batch;
    private final DecodePool pool = DecodePool.shared();
    private final int grainBytes;
    private final NativeMatrix embed;           // [V, H]
    private final Layer[] layers;
    private final float[] finalNorm;            // [H]
    private final Proj[] lmHead;
    private final float[] invFreq;              // [hd/2]
    private final DecodeAttention attention;
    private final Map<INDArray, NativeMatrix> loraViews = new IdentityHashMap<>();
    private final Map<INDArray, float[]> loraBt = new IdentityHashMap<>();  // lora_B → Bᵀ [r, out], this run

    // run state, one row per batch row
    private final float[][] x;                  // [B, H] residual stream
    private final MatVec.Input normed;          // [B, H] rmsnorm output: input of q/k/v, gate/up, lm_head
    private final MatVec.Input query;           // [B, nH·hd] q after RoPE
    private final float[][] k;                  // [B, nKV·hd]
    private final float[][] v;                  // [B, nKV·hd]
    private final MatVec.Input attnOut;         // [B, nH·hd] input of o_proj
    private final float[][] o;                  // [B, H]
    private final float[][] gate;               // [B, I]
    private final float[][] up;                 // [B, I]
    private final MatVec.Input act;             // [B, I] silu(gate) ⊙ up: input of down_proj
    private final float[][] cos;                // [B, hd]
    private final float[][] sin;                // [B, hd]
    private KvCache bound;
    private NativeMatrix[] keys;                // per layer [B·nKV·capacity, hd]
    private NativeMatrix[] values;
    private boolean warnedLength;

    VectorDecodeStep(Decoder decoder, ForwardContext ctx, int batch) {
        this(decoder, ctx, batch, GRAIN_BYTES);
    }

    /** {@code grainBytes}: weight bytes per piece of a parallel loop (tests make it small to split tiny models). */
    VectorDecodeStep(Decoder decoder, ForwardContext ctx, int batch, int grainBytes) {
        this.grainBytes = grainBytes;
        if (batch < 1) {
            throw new IllegalArgumentException("decode batch must be >= 1, found " + batch);
        }
        if (ctx.dropout() != null) {
            throw new UnsupportedOperationException("LoRA dropout is on; generation runs without dropout");
        }
        ModelWeights w = decoder.weights();
        this.c = w.config();
        this.ctx = ctx;
        this.batch = batch;
        this.embed = view(w.embedTokens(), "model.embed_tokens.weight");
        this.layers = new Layer[c.numHiddenLayers()];
        for (LayerWeights l : w.layers()) {
            String p = "model.layers." + l.index() + ".";
            layers[l.index()] = new Layer(l.index(), c.slidingWindowForLayer(l.index()),
                    view(l.inputLayernorm(), p + "input_layernorm.weight").toFloats(),
                    projs(l.qProj(), l.kProj(), l.vProj()), projs(l.oProj()),
                    view(l.postAttentionLayernorm(), p + "post_attention_layernorm.weight").toFloats(),
                    projs(l.gateProj(), l.upProj()), projs(l.downProj()));
        }
        this.finalNorm = view(w.norm(), "model.norm.weight").toFloats();
        this.lmHead = projs(decoder.lmHead());
        this.invFreq = decoder.rope().invFreq();
        this.attention = new DecodeAttention(c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim());
        for (Layer l : layers) {
            for (Proj[] group : new Proj[][] {l.qkv(), l.o(), l.gateUp(), l.down()}) {
                checkLora(group);
            }
        }
        checkLora(lmHead);
        int h = c.hiddenSize();
        x = new float[batch][h];
        normed = new MatVec.Input(batch, h);
        query = new MatVec.Input(batch, c.qDim());
        k = new float[batch][c.kvDim()];
        v = new float[batch][c.kvDim()];
        attnOut = new MatVec.Input(batch, c.qDim());
        o = new float[batch][h];
        gate = new float[batch][c.intermediateSize()];
        up = new float[batch][c.intermediateSize()];
        act = new MatVec.Input(batch, c.intermediateSize());
        cos = new float[batch][c.headDim()];
        sin = new float[batch][c.headDim()];
    }

    /** The adapter of {@code module} for batch row {@code row}, or null: every LoRA lookup of the step. */
    private static LoraWeights lora(ForwardContext ctx, String module, int row) {
        return ctx.loraOf(module, row);
    }

    @Override
    public float[][] next(int[][] ids, int[][] positions, AttentionMask mask, KvCache cache) {
        if (ids.length != batch || positions.length != batch) {
            throw new IllegalArgumentException("this decode step was made for " + batch + " rows; got " + ids.length
                    + " ids and " + positions.length + " positions");
        }
        int slot = cache.length();
        if (slot + 1 > cache.capacity()) {
            throw new IllegalStateException("KV cache holds " + cache.capacity() + " slots; " + slot + " used, 1 more "
                    + "requested (raise the cache capacity or lower max_new_tokens)");
        }
        if (slot + 1 > c.maxPositionEmbeddings() && !warnedLength) {
            warnedLength = true;
            System.err.println("warning: sequence length " + (slot + 1) + " exceeds max_position_embeddings="
                    + c.maxPositionEmbeddings());
        }
        bind(cache);
        for (int b = 0; b < batch; b++) {
            if (ids[b].length != 1 || positions[b].length != 1) {
                throw new IllegalArgumentException("a decode step takes one token per row; row " + b + " has "
                        + ids[b].length + " (use Decoder.hidden for prompts)");
            }
            int id = ids[b][0];
            if (id < 0 || id >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " at row " + b + ", position 0 is outside the "
                        + "vocabulary [0, " + c.vocabSize() + ")");
            }
            embed.readRow(id, x[b], 0);
            DecodeOps.ropeTables(invFreq, positions[b][0], cos[b], sin[b]);
        }
        Map<Integer, boolean[][]> visible = new HashMap<>();
        for (Layer l : layers) {
            boolean[][] vis = visible.computeIfAbsent(l.window(), win -> visibility(mask, slot, win));
            DecodeOps.rmsNorm(x, l.inputNorm(), c.rmsNormEps(), normed);
            project(l.qkv(), normed, query.x, k, v);
            for (int b = 0; b < batch; b++) {
                attention.rope(query.x[b], c.numAttentionHeads(), cos[b], sin[b]);
                attention.rope(k[b], c.numKeyValueHeads(), cos[b], sin[b]);
            }
            attention.store(keys[l.index()], values[l.index()], cache.capacity(), slot, k, v);
            attention.attend(query.split(), keys[l.index()], values[l.index()], cache.capacity(), slot, vis,
                    attnOut.x, pool);
            project(l.o(), attnOut.split(), o);
            DecodeOps.addInto(x, o);
            DecodeOps.rmsNorm(x, l.postNorm(), c.rmsNormEps(), normed);
            project(l.gateUp(), normed, gate, up);
            DecodeOps.siluTimes(gate, up, act);
            project(l.down(), act, o);
            DecodeOps.addInto(x, o);
        }
        cache.advance(1);
        DecodeOps.rmsNorm(x, finalNorm, c.rmsNormEps(), normed);
        float[][] logits = new float[batch][c.vocabSize()];                     // [B, V]
        project(lmHead, normed, logits);
        return logits;
    }

    /**
     * {@code out[p][b] = x_b·W_pᵀ + bias_p + s·B_p·(A_p·x_b)} for each projection p of a group; the output rows of the
     * whole group (p after p) are shared across the pool. The LoRA factor {@code u = s·A·x_b} (r values) is computed
     * first, on the calling thread.
     */
    private void project(Proj[] group, MatVec.Input in, float[][]... out) {
        LowRank[][] lora = new LowRank[group.length][];
        int total = 0;
        for (int p = 0; p < group.length; p++) {
            lora[p] = lowRank(group[p].name(), in);
            total += group[p].w().rows;
        }
        int rows = total;
        pool.run(total, Math.max(1, grainBytes / group[0].w().rowBytes), (from, to) -> {
            int start = 0;
            for (int p = 0; p < group.length; p++) {
                int end = start + group[p].w().rows;
                int lo = Math.max(from, start);
                int hi = Math.min(to, end);
                if (lo < hi) {
                    rows(group[p], lo - start, hi - start, in, out[p], lora[p]);
                }
                start = end;
            }
        });
    }

    private static void rows(Proj p, int from, int to, MatVec.Input in, float[][] y, LowRank[] lora) {
        MatVec.rows(p.w(), from, to, in, 0, in.nb, y);
        for (int b = 0; b < in.nb; b++) {
            if (p.bias() != null) {
                for (int r = from; r < to; r++) {
                    y[b][r] += p.bias()[r];
                }
            }
            if (lora != null && lora[b] != null) {
                MatVec.addLowRank(lora[b].bt(), lora[b].r(), lora[b].out(), from, to, lora[b].u(), y[b]);
            }
        }
    }

    /**
     * Per row, the adapter's {@code u = s·A·x_b} and {@code Bᵀ} for {@code module}; null when no row is adapted.
     * Bᵀ is a heap copy made on first use and kept for this run: B's rows hold only r values, too few to vectorize
     * along, and the copy is adapter-sized (r·out floats per module, about 1% of the base at r = 8).
     */
    private LowRank[] lowRank(String module, MatVec.Input in) {
        LowRank[] out = null;
        for (int b = 0; b < batch; b++) {
            LoraWeights l = lora(ctx, module, b);
            if (l == null) {
                continue;
            }
            float[][] u = new float[batch][];
            u[b] = new float[l.r()];
            MatVec.rows(loraView(l.a()), 0, l.r(), in, b, b + 1, u);          // [r]
            for (int j = 0; j < u[b].length; j++) {
                u[b][j] *= (float) l.scale();
            }
            if (out == null) {
                out = new LowRank[batch];
            }
            out[b] = new LowRank(loraBt.computeIfAbsent(l.b(), bm -> MatVec.transposed(NativeMatrix.of(bm))), l.r(),
                    l.outFeatures(), u[b]);
        }
        return out;
    }

    /** Fails (to the ND4J path) when an adapter of this group does not fit the fast step. */
    private void checkLora(Proj[] group) {
        for (Proj p : group) {
            for (int b = 0; b < batch; b++) {
                LoraWeights l = lora(ctx, p.name(), b);
                if (l == null) {
                    continue;
                }
                if (l.inFeatures() != p.w().cols || l.outFeatures() != p.w().rows) {
                    throw new IllegalArgumentException(p.name() + ": LoRA is [in " + l.inFeatures() + ", out "
                            + l.outFeatures() + "] but the layer is [in " + p.w().cols + ", out " + p.w().rows + "]");
                }
                String why = NativeMatrix.unsupported(l.a());
                why = why != null ? why : NativeMatrix.unsupported(l.b());
                if (why != null) {
                    throw new UnsupportedOperationException(p.name() + " LoRA: " + why);
                }
            }
        }
    }

    private NativeMatrix loraView(INDArray a) {
        return loraViews.computeIfAbsent(a, NativeMatrix::of);
    }

    /** Views of the cache's per-layer keys and values, made once per cache. */
    private void bind(KvCache cache) {
        if (cache == bound) {
            return;
        }
        if (cache.batch() != batch) {
            throw new IllegalArgumentException("KV cache has " + cache.batch() + " rows; this step decodes " + batch);
        }
        keys = new NativeMatrix[layers.length];
        values = new NativeMatrix[layers.length];
        for (int i = 0; i < layers.length; i++) {
            keys[i] = view(cache.keyStore(i), "KV cache keys of layer " + i);
            values[i] = view(cache.valueStore(i), "KV cache values of layer " + i);
        }
        bound = cache;
    }

    /** The mask of the new token (slot {@code slot}) over slots {@code [0, slot]}: {@code [B][slot+1]}. */
    private boolean[][] visibility(AttentionMask mask, int slot, int window) {
        boolean[][] vis = new boolean[batch][slot + 1];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j <= slot; j++) {
                vis[b][j] = mask.allowed(b, slot, j, window);
            }
        }
        return vis;
    }

    private static Proj[] projs(Linear... ls) {
        Proj[] out = new Proj[ls.length];
        for (int i = 0; i < ls.length; i++) {
            out[i] = Proj.of(ls[i]);
        }
        return out;
    }

    private static NativeMatrix view(INDArray a, String what) {
        String why = NativeMatrix.unsupported(a);
        if (why != null) {
            throw new UnsupportedOperationException(what + ": " + why);
        }
        return NativeMatrix.of(a);
    }
}
