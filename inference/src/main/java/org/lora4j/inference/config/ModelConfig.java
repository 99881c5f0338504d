package org.lora4j.inference.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The typed mirror of a Hugging Face {@code config.json} for the Llama family
 * ({@code LlamaForCausalLM}, {@code MistralForCausalLM}, {@code Qwen2ForCausalLM}). Field names follow HF.
 *
 * @param headDim             {@code head_dim}, or {@code hidden_size / num_attention_heads} when absent
 * @param qkvBias             q/k/v projections carry a bias (Qwen2 always; Llama with {@code attention_bias})
 * @param oBias               o_proj carries a bias (Llama with {@code attention_bias})
 * @param slidingWindow       attention window in tokens, or 0 for full causal attention
 * @param maxWindowLayers     Qwen2: layers {@code >= max_window_layers} use the window (0 for Mistral: all layers)
 * @param eosTokenIds         every id that ends generation ({@code eos_token_id} may be a list)
 * @param bosTokenId          {@code bos_token_id} or -1
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean oBias,
        int slidingWindow,
        int maxWindowLayers,
        int bosTokenId,
        int[] eosTokenIds,
        String torchDtype) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelConfig {
        String where = "config.json";
        require(vocabSize > 0, where, "vocab_size", "> 0", vocabSize);
        require(hiddenSize > 0, where, "hidden_size", "> 0", hiddenSize);
        require(numAttentionHeads > 0, where, "num_attention_heads", "> 0", numAttentionHeads);
        require(numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads == 0, where, "num_key_value_heads",
                "a divisor of num_attention_heads=" + numAttentionHeads, numKeyValueHeads);
        require(headDim > 0 && headDim % 2 == 0, where, "head_dim", "an even number > 0", headDim);
        require(intermediateSize > 0, where, "intermediate_size", "> 0", intermediateSize);
        require(numHiddenLayers > 0, where, "num_hidden_layers", "> 0", numHiddenLayers);
        require(slidingWindow >= 0, where, "sliding_window", ">= 0 or null", slidingWindow);
        eosTokenIds = eosTokenIds.clone();
    }

    /** Reads {@code dir/config.json}. */
    public static ModelConfig load(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(file + " not found: a Hugging Face model folder needs config.json next to "
                    + "its *.safetensors files (point --model at the folder that holds both)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ConfigException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        return parse(root, file.toString());
    }

    /** Maps a parsed config.json onto the typed config; {@code where} names the source in errors. */
    public static ModelConfig parse(JsonNode root, String where) {
        if (root == null || !root.isObject()) {
            throw new ConfigException(where + ": expected a JSON object");
        }
        Architecture arch;
        JsonNode archs = root.get("architectures");
        if (archs != null && archs.isArray() && archs.size() > 0) {
            arch = Architecture.fromHfClass(archs.get(0).asText(), where);
        } else if (root.hasNonNull("model_type")) {
            arch = Architecture.fromModelType(root.get("model_type").asText(), where);
        } else {
            throw new ConfigException(where + ": neither 'architectures' nor 'model_type' is set; expected e.g. "
                    + "\"architectures\": [\"LlamaForCausalLM\"]");
        }
        String act = root.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new ConfigException(where + ": hidden_act '" + act + "' is not supported; the SwiGLU MLP of "
                    + Architecture.supportedList() + " uses 'silu'");
        }
        int hidden = requiredInt(root, "hidden_size", where);
        int heads = requiredInt(root, "num_attention_heads", where);
        int kvHeads = root.hasNonNull("num_key_value_heads") ? requiredInt(root, "num_key_value_heads", where) : heads;
        int headDim;
        if (root.hasNonNull("head_dim")) {
            headDim = requiredInt(root, "head_dim", where);
        } else {
            if (hidden % heads != 0) {
                throw new ConfigException(where + ": hidden_size=" + hidden + " is not divisible by num_attention_heads="
                        + heads + " and head_dim is not set; add \"head_dim\"");
            }
            headDim = hidden / heads;
        }
        boolean attentionBias = root.path("attention_bias").asBoolean(false);
        boolean qkvBias = arch == Architecture.QWEN2 || attentionBias;
        boolean oBias = arch == Architecture.LLAMA && attentionBias;
        int window = 0;
        int maxWindowLayers = 0;
        if (arch == Architecture.MISTRAL && root.hasNonNull("sliding_window")) {
            window = requiredInt(root, "sliding_window", where);
        } else if (arch == Architecture.QWEN2 && root.path("use_sliding_window").asBoolean(false)
                && root.hasNonNull("sliding_window")) {
            window = requiredInt(root, "sliding_window", where);
            maxWindowLayers = root.path("max_window_layers").asInt(0);
        }
        int vocab = requiredInt(root, "vocab_size", where);
        return new ModelConfig(arch, vocab, hidden,
                requiredInt(root, "intermediate_size", where),
                requiredInt(root, "num_hidden_layers", where),
                heads, kvHeads, headDim,
                requiredNumber(root, "rms_norm_eps", where),
                root.hasNonNull("rope_theta") ? requiredNumber(root, "rope_theta", where) : 10000.0,
                parseRopeScaling(root.get("rope_scaling"), where),
                root.path("max_position_embeddings").asInt(2048),
                root.path("tie_word_embeddings").asBoolean(false),
                qkvBias, oBias, window, maxWindowLayers,
                root.hasNonNull("bos_token_id") ? root.get("bos_token_id").asInt() : -1,
                parseIds(root.get("eos_token_id"), where),
                root.path("torch_dtype").asText(root.path("dtype").asText("float32")));
    }

    /** The attention window of layer {@code i} (0 = full causal). */
    public int slidingWindowForLayer(int layer) {
        return slidingWindow > 0 && layer >= maxWindowLayers ? slidingWindow : 0;
    }

    public int numKeyValueGroups() {
        return numAttentionHeads / numKeyValueHeads;
    }

    public int qDim() {
        return numAttentionHeads * headDim;
    }

    public int kvDim() {
        return numKeyValueHeads * headDim;
    }

    @Override
    public int[] eosTokenIds() {
        return eosTokenIds.clone();
    }

    /** Writes the config in HF's layout (used by the tiny-model generator and by merge). */
    public ObjectNode toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add(architecture.hfClass());
        n.put("model_type", architecture.modelType());
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", numHiddenLayers);
        n.put("num_attention_heads", numAttentionHeads);
        n.put("num_key_value_heads", numKeyValueHeads);
        n.put("head_dim", headDim);
        n.put("hidden_act", "silu");
        n.put("rms_norm_eps", rmsNormEps);
        n.put("rope_theta", ropeTheta);
        if (ropeScaling instanceof RopeScaling.Linear l) {
            n.putObject("rope_scaling").put("rope_type", "linear").put("factor", l.factor());
        } else if (ropeScaling instanceof RopeScaling.Llama3 l) {
            n.putObject("rope_scaling").put("rope_type", "llama3")
                    .put("factor", l.factor()).put("low_freq_factor", l.lowFreqFactor())
                    .put("high_freq_factor", l.highFreqFactor())
                    .put("original_max_position_embeddings", l.originalMaxPositionEmbeddings());
        } else {
            n.putNull("rope_scaling");
        }
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        if (architecture == Architecture.LLAMA) {
            n.put("attention_bias", qkvBias);
        }
        if (architecture == Architecture.MISTRAL) {
            if (slidingWindow > 0) {
                n.put("sliding_window", slidingWindow);
            } else {
                n.putNull("sliding_window");
            }
        }
        if (architecture == Architecture.QWEN2) {
            n.put("use_sliding_window", slidingWindow > 0);
            n.put("sliding_window", slidingWindow > 0 ? slidingWindow : maxPositionEmbeddings);
            n.put("max_window_layers", maxWindowLayers);
        }
        if (bosTokenId >= 0) {
            n.put("bos_token_id", bosTokenId);
        }
        if (eosTokenIds.length == 1) {
            n.put("eos_token_id", eosTokenIds[0]);
        } else {
            ArrayNode a = n.putArray("eos_token_id");
            Arrays.stream(eosTokenIds).forEach(a::add);
        }
        n.put("torch_dtype", torchDtype);
        return n;
    }

    private static RopeScaling parseRopeScaling(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return new RopeScaling.None();
        }
        String type = node.hasNonNull("rope_type") ? node.get("rope_type").asText() : node.path("type").asText("");
        String at = where + ": rope_scaling";
        return switch (type) {
            case "default" -> new RopeScaling.None();
            case "linear" -> new RopeScaling.Linear(requiredNumber(node, "factor", at));
            case "llama3" -> new RopeScaling.Llama3(requiredNumber(node, "factor", at),
                    requiredNumber(node, "low_freq_factor", at), requiredNumber(node, "high_freq_factor", at),
                    requiredInt(node, "original_max_position_embeddings", at));
            default -> throw new ConfigException(at + " type '" + type + "' is not supported; supported: "
                    + "null, \"linear\", \"llama3\"");
        };
    }

    private static int[] parseIds(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return new int[0];
        }
        if (node.isInt()) {
            return new int[] {node.asInt()};
        }
        if (node.isArray()) {
            List<Integer> ids = new ArrayList<>();
            node.forEach(v -> {
                if (!v.isInt()) {
                    throw new ConfigException(where + ": eos_token_id entries must be integers, found " + v);
                }
                ids.add(v.asInt());
            });
            return ids.stream().mapToInt(Integer::intValue).toArray();
        }
        throw new ConfigException(where + ": eos_token_id must be an integer or a list of integers, found " + node);
    }

    private static int requiredInt(JsonNode root, String key, String where) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            throw new ConfigException(where + ": required key '" + key + "' is missing; every "
                    + Architecture.supportedList() + " config.json has it (copy it from the model's original config)");
        }
        if (!v.canConvertToExactIntegral() || !v.canConvertToInt()) {
            throw new ConfigException(where + ": '" + key + "' must be an integer, found " + v);
        }
        return v.asInt();
    }

    private static double requiredNumber(JsonNode root, String key, String where) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            throw new ConfigException(where + ": required key '" + key + "' is missing");
        }
        if (!v.isNumber()) {
            throw new ConfigException(where + ": '" + key + "' must be a number, found " + v);
        }
        return v.asDouble();
    }

    private static void require(boolean ok, String where, String key, String expected, int found) {
        if (!ok) {
            throw new ConfigException(where + ": '" + key + "' must be " + expected + ", found " + found);
        }
    }

    @Override
    public String toString() {
        return architecture.hfClass() + "(hidden=" + hiddenSize + ", layers=" + numHiddenLayers + ", heads="
                + numAttentionHeads + "/" + numKeyValueHeads + " kv, head_dim=" + headDim + ", ffn="
                + intermediateSize + ", vocab=" + vocabSize + ")";
    }
}
