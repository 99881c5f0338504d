package org.lora4j.trainer.plan;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.ModuleSelector;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.trainer.recipe.Recipe;
import org.lora4j.trainer.train.TrainingJob;

/**
 * Estimates a training run's memory from {@code config.json} and the recipe, without loading any weight. It counts
 * what the caches of the lora4j training graph hold ({@code org.lora4j.inference.model}: {@code CausalLmLoss},
 * {@code DecoderLayer}, {@code Attention}, {@code SwiGluMlp}, {@code RmsNorm}, {@code Linear}, {@code LoraBranch})
 * for one micro-batch of {@code batch_size × max_seq_len} tokens, N tokens in all, per layer:
 * <pre>
 *   residual stream  x of every layer and h after attention [N, H]  (2L + 1 of them, the last = final norm's input)
 *   RmsNorm outputs  the normed x and h [N, H] (inputs of q/k/v and gate/up; and the final norm's, lm_head's input)
 *   Attention        q, k after RoPE [N, nH·hd], [N, nKV·hd], v [N, nKV·hd], P [B, nH, T, T], o_proj's input [N, nH·hd]
 *   SwiGluMlp        g, u and down_proj's input silu(g)·u [N, I]
 *   LoraBranch       u [N, r]; with lora_dropout > 0 also drop(x) and the mask [N, in], per adapted module
 *   CausalLmLoss     logits [N, V] (backward overwrites them with dlogits)
 *   RotaryEmbedding  cos, sin [N, hd], shared by the layers (the attention masks die with the forward)
 * </pre>
 * On top: the largest backward temporaries of one layer (attention's dq, dk, dv, dO and one query block of dP, or the
 * MLP's da [N, I] and dx [N, H]), the base weights, and the trained parameters with their gradients and AdamW's m, v
 * and update scratch. Micro-batches of one optimizer step run one after another, so gradient accumulation costs no activations.
 */
public final class Planner {

    /** A model's config and where it came from: its config.json, or the built-in copy for a known model. */
    public record ResolvedConfig(ModelConfig config, String source, boolean builtIn) {
    }

    /** A layer's linears grouped by the input they read: q/k/v share the normed x, gate/up the normed h. */
    private static final List<List<String>> LAYER_INPUTS = List.of(
            List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"), List.of("self_attn.o_proj"),
            List.of("mlp.gate_proj", "mlp.up_proj"), List.of("mlp.down_proj"));
    private static final List<List<String>> HEAD_INPUT = List.of(List.of("lm_head"));

    private Planner() {
    }

    /**
     * Reads {@code modelDir/config.json}; when the folder has none and its name is that of a model the shipped
     * recipes use ({@link KnownModels}), the built-in copy of that model's config.
     */
    public static ResolvedConfig resolveConfig(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        if (Files.isRegularFile(file)) {
            return new ResolvedConfig(ModelConfig.load(modelDir), file.toString(), false);
        }
        Optional<KnownModels.KnownModel> known = KnownModels.forFolder(modelDir);
        if (known.isPresent()) {
            return new ResolvedConfig(known.get().config(), "built-in copy of " + known.get().repo()
                    + "'s config.json (" + file + " is not there yet)", true);
        }
        throw new IllegalArgumentException(file + " not found: plan reads the model's config.json (no weights)."
                + " Download the model first (huggingface-cli download ORG/NAME --local-dir " + modelDir + ") or copy"
                + " its config.json there. Built-in configs exist for model folders named " + KnownModels.folderNames());
    }

    /** The plan for the recipe's adapter.method (lora or full). */
    public static MemoryPlan plan(ModelConfig c, Recipe r) {
        String method = r.adapter().method();
        if (method.equals("none")) {
            throw new IllegalArgumentException("adapter.method is 'none': nothing is trained, so there is no training"
                    + " memory to plan. Set adapter.method: lora, or full for full-parameter training");
        }
        return plan(c, r, method.equals("full"));
    }

    /** The plan of the same recipe with adapter.method: full (every base weight trained). */
    public static MemoryPlan planFull(ModelConfig c, Recipe r) {
        return plan(c, r, true);
    }

    private static MemoryPlan plan(ModelConfig c, Recipe r, boolean full) {
        int e = r.model().dtype().equals("float64") ? 8 : 4;
        int b = r.training().batchSize();
        int t = r.data().maxSeqLen();
        long n = (long) b * t;                                            // tokens per micro-batch
        int h = c.hiddenSize();
        int inter = c.intermediateSize();
        int layers = c.numHiddenLayers();
        Map<String, int[]> shapes = linearShapes(c);

        Set<String> adapted = new HashSet<>();
        long trainable;
        int rank = r.adapter().r();
        double p = full ? 0 : r.adapter().loraDropout();
        long base = parameterCount(c);
        if (full) {
            trainable = base;
        } else {
            LoraConfig cfg = TrainingJob.loraConfig(r.adapter(), r.model().path());
            adapted.addAll(ModuleSelector.select(new ArrayList<>(shapes.keySet()), cfg));
            trainable = 0;
            for (String m : adapted) {
                int[] s = shapes.get(m);
                trainable += (long) rank * (s[0] + s[1]);
            }
        }

        long residual = (2L * layers + 1) * n * h;
        long qkv = (long) layers * n * (c.qDim() + 2L * c.kvDim());
        long probs = (long) layers * b * c.numAttentionHeads() * t * (long) t;
        long mlp = (long) layers * n * 2L * inter;
        // every linear's input is kept (the layers hand their outputs on in place): the two norm outputs, o_proj's
        // and down_proj's inputs per layer, and lm_head's
        long inputs = (long) layers * n * (2L * h + c.qDim() + inter) + n * h;
        long loraU = 0;
        long dropout = 0;
        for (int i = 0; i <= layers; i++) {
            String prefix = i < layers ? "model.layers." + i + "." : "";
            for (List<String> group : i < layers ? LAYER_INPUTS : HEAD_INPUT) {
                for (String leaf : group) {
                    if (!adapted.contains(prefix + leaf)) {
                        continue;
                    }
                    loraU += n * rank;
                    if (p > 0) {
                        dropout += 2 * n * shapes.get(prefix + leaf)[1];   // drop(x) and the mask
                    }
                }
            }
        }
        long logits = n * c.vocabSize();
        long rope = 2 * n * c.headDim();
        MemoryPlan.Activations act = new MemoryPlan.Activations(residual * e, qkv * e, probs * e, mlp * e,
                inputs * e, loraU * e, dropout * e, logits * e, rope * e);
        long attentionTemp = (long) Math.min(t, 128) * t + n * (2L * c.qDim() + 2L * c.kvDim());
        long backwardTemp = Math.max(attentionTemp, n * ((long) inter + h)) * e;

        return new MemoryPlan(c, full ? "full" : "lora", e, base, adapted.size(), trainable, base * e,
                full ? 0 : trainable * e, trainable * e, 3 * trainable * e, act, backwardTemp, b, t,
                r.training().gradientAccumulationSteps());
    }

    /**
     * Every linear layer the config implies, HF module name → {out, in}, in model order, lm_head last (also when
     * tied: as {@code LanguageModel.linearShapes}, the modules a LoRA adapter may target).
     */
    public static Map<String, int[]> linearShapes(ModelConfig c) {
        Map<String, int[]> m = new LinkedHashMap<>();
        int h = c.hiddenSize();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "self_attn.q_proj", new int[] {c.qDim(), h});
            m.put(p + "self_attn.k_proj", new int[] {c.kvDim(), h});
            m.put(p + "self_attn.v_proj", new int[] {c.kvDim(), h});
            m.put(p + "self_attn.o_proj", new int[] {h, c.qDim()});
            m.put(p + "mlp.gate_proj", new int[] {c.intermediateSize(), h});
            m.put(p + "mlp.up_proj", new int[] {c.intermediateSize(), h});
            m.put(p + "mlp.down_proj", new int[] {h, c.intermediateSize()});
        }
        m.put("lm_head", new int[] {c.vocabSize(), h});
        return m;
    }

    /** Parameters of the base as {@code ModelWeights.parameterCount} counts them (tied embeddings once). */
    public static long parameterCount(ModelConfig c) {
        long h = c.hiddenSize();
        long embed = (long) c.vocabSize() * h;
        long perLayer = 2 * h                                                   // input and post-attention norms
                + h * c.qDim() + 2 * h * c.kvDim() + (long) c.qDim() * h          // q, k, v, o
                + 3 * h * c.intermediateSize()                                    // gate, up, down
                + (c.qkvBias() ? c.qDim() + 2L * c.kvDim() : 0) + (c.oBias() ? h : 0);
        return embed * (c.tieWordEmbeddings() ? 1 : 2) + h + perLayer * c.numHiddenLayers();
    }
}
