package org.lora4j.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.LoraInit;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.adapters.safetensors.CheckpointException;

/**
 * {@code adapter_config.json} of a PEFT LoRA adapter (huggingface/peft, {@code LoraConfig.save_pretrained}):
 * the keys PEFT writes, sorted as PEFT sorts them, limited to those that PEFT 0.6+ and vLLM understand.
 * Reading accepts files from any PEFT version: keys lora4j has no use for are reported in one warning; settings
 * that change what the adapter computes and that lora4j does not implement are errors.
 */
public final class AdapterConfigJson {

    public static final String FILE = "adapter_config.json";

    /** PEFT's dataclass defaults, used when a key is absent (as PEFT itself does). */
    static final int DEFAULT_R = 8;
    static final double DEFAULT_ALPHA = 8;

    /** Keys this class reads. */
    private static final Set<String> KNOWN = Set.of("peft_type", "task_type", "r", "lora_alpha", "lora_dropout",
            "target_modules", "bias", "use_rslora", "use_dora", "fan_in_fan_out", "init_lora_weights",
            "layers_to_transform", "layers_pattern", "modules_to_save", "base_model_name_or_path", "inference_mode",
            "revision", "rank_pattern", "alpha_pattern", "auto_mapping");

    private static final ObjectMapper JSON = new ObjectMapper();

    private AdapterConfigJson() {
    }

    /** The config as PEFT writes it (keys in sorted order, as {@code json.dumps(sort_keys=True)}). */
    public static ObjectNode toJson(LoraConfig c) {
        ObjectNode n = JSON.createObjectNode();
        n.putObject("alpha_pattern");
        n.put("base_model_name_or_path", c.baseModelNameOrPath());
        n.put("bias", "none");
        n.put("fan_in_fan_out", false);
        n.put("inference_mode", true);
        switch (c.initLoraWeights()) {
            case KAIMING_UNIFORM -> n.put("init_lora_weights", true);
            case GAUSSIAN -> n.put("init_lora_weights", "gaussian");
            case RANDOM -> n.put("init_lora_weights", false);
            default -> throw new AssertionError(c.initLoraWeights());
        }
        if (c.layersToTransform() == null) {
            n.putNull("layers_pattern");
            n.putNull("layers_to_transform");
        } else {
            // PEFT's default layer pattern takes the LAST ".name.N." (an expert index in MoE models); name it
            n.put("layers_pattern", "layers");
            ArrayNode layers = n.putArray("layers_to_transform");
            c.layersToTransform().forEach(layers::add);
        }
        if (c.loraAlpha() == Math.rint(c.loraAlpha()) && Math.abs(c.loraAlpha()) < 1e15) {
            n.put("lora_alpha", (long) c.loraAlpha()); // PEFT types lora_alpha as int
        } else {
            n.put("lora_alpha", c.loraAlpha());
        }
        n.put("lora_dropout", c.loraDropout());
        n.putNull("modules_to_save");
        n.put("peft_type", "LORA");
        n.put("r", c.r());
        n.putObject("rank_pattern");
        n.putNull("revision");
        TargetModules t = c.targetModules();
        if (t instanceof TargetModules.Names names) {
            ArrayNode a = n.putArray("target_modules");
            names.names().forEach(a::add);
        } else if (t instanceof TargetModules.Regex r) {
            n.put("target_modules", r.pattern());
        } else {
            n.put("target_modules", "all-linear");
        }
        n.put("task_type", "CAUSAL_LM");
        n.put("use_dora", false);
        n.put("use_rslora", c.useRslora());
        return n;
    }

    /**
     * Reads a PEFT {@code adapter_config.json}.
     *
     * @param where    the file, for messages
     * @param warnings receives at most a few lines (ignored keys, guessed values); never null
     * @throws CheckpointException for a value lora4j cannot honour, naming the key, the value and the fix
     */
    public static LoraConfig parse(JsonNode n, String where, Consumer<String> warnings) {
        if (n == null || !n.isObject()) {
            throw new CheckpointException(where + ": expected a JSON object such as {\"peft_type\": \"LORA\","
                    + " \"r\": 8, ...}, found " + (n == null ? "nothing" : n.getNodeType()));
        }
        Reader in = new Reader(n, where);
        String peftType = in.string("peft_type", null);
        if (peftType == null) {
            warnings.accept(where + ": no \"peft_type\"; reading it as a LoRA adapter (\"LORA\")");
        } else if (!peftType.equals("LORA")) {
            throw in.fail("peft_type", "\"LORA\"", "lora4j reads LoRA adapters only; a " + peftType
                    + " adapter needs PEFT itself");
        }
        String task = in.string("task_type", null);
        if (task != null && !task.equals("CAUSAL_LM")) {
            warnings.accept(where + ": task_type is \"" + task + "\"; lora4j applies the adapter to a causal LM"
                    + " (CAUSAL_LM) regardless");
        }
        in.require("bias", "none", "\"none\"", "lora4j trains and applies no bias terms; retrain with bias=\"none\"");
        in.require("use_dora", false, "false", "DoRA (magnitude vectors) is not implemented in lora4j; merge it"
                + " with PEFT (merge_and_unload) and use the merged model");
        in.require("fan_in_fan_out", false, "false", "fan_in_fan_out is for GPT-2 style Conv1D layers, which"
                + " lora4j does not load");
        in.requireEmpty("modules_to_save", "the adapter also carries full copies of those modules; merge it with PEFT"
                + " (merge_and_unload) or retrain without modules_to_save");
        in.requireEmpty("rank_pattern", "per-module ranks are not supported; retrain with one r for all modules");
        in.requireEmpty("alpha_pattern", "per-module alphas are not supported; retrain with one lora_alpha");
        in.requireEmpty("layer_replication", "layer replication changes the base model's structure, which lora4j"
                + " does not do");
        in.requireEmpty("target_parameters", "LoRA on raw nn.Parameters (e.g. MoE experts) is not supported");
        in.requireEmpty("trainable_token_indices", "trained embedding rows are not supported");
        in.requireEmpty("alora_invocation_tokens", "activated LoRA (aLoRA) is not supported");
        in.require("lora_bias", false, "false", "the adapter has a bias on lora_B, which lora4j does not apply");
        in.require("use_qalora", false, "false", "QA-LoRA pooling is not supported");

        TargetModules targets = in.targets();
        List<Integer> layers = in.layers();
        if (layers != null) {
            in.layersPattern();
        }
        LoraInit init = in.init(warnings);
        int r = in.integer("r", DEFAULT_R);
        double alpha = in.number("lora_alpha", DEFAULT_ALPHA);
        double dropout = in.number("lora_dropout", 0.0);
        boolean rslora = in.bool("use_rslora", false);
        String base = in.string("base_model_name_or_path", null);

        Set<String> ignored = new TreeSet<>();
        n.fieldNames().forEachRemaining(k -> {
            if (!KNOWN.contains(k) && !Reader.CHECKED.contains(k)) {
                ignored.add(k);
            }
        });
        if (!ignored.isEmpty()) {
            warnings.accept(where + ": ignoring " + ignored.size() + " key(s) lora4j does not use: "
                    + String.join(", ", ignored));
        }
        try {
            return new LoraConfig(r, alpha, dropout, targets, layers, rslora, init, base);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(where + ": " + e.getMessage(), e);
        }
    }

    /** Typed access to the JSON object with messages that name the file and the key. */
    private static final class Reader {
        /** PEFT keys whose neutral value is accepted silently and any other value refused. */
        static final Set<String> CHECKED = Set.of("layer_replication", "target_parameters", "trainable_token_indices",
                "alora_invocation_tokens", "lora_bias", "use_qalora");

        private final JsonNode n;
        private final String where;

        Reader(JsonNode n, String where) {
            this.n = n;
            this.where = where;
        }

        private JsonNode get(String key) {
            JsonNode v = n.get(key);
            return v == null || v.isNull() ? null : v;
        }

        CheckpointException fail(String key, String expected, String fix) {
            return new CheckpointException(where + ": \"" + key + "\" is " + n.get(key) + "; expected " + expected
                    + "; " + fix);
        }

        String string(String key, String dflt) {
            JsonNode v = get(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isTextual()) {
                throw fail(key, "a string", "fix the file");
            }
            return v.textValue();
        }

        boolean bool(String key, boolean dflt) {
            JsonNode v = get(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isBoolean()) {
                throw fail(key, "true or false", "fix the file");
            }
            return v.booleanValue();
        }

        double number(String key, double dflt) {
            JsonNode v = get(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isNumber()) {
                throw fail(key, "a number", "fix the file");
            }
            return v.doubleValue();
        }

        int integer(String key, int dflt) {
            JsonNode v = get(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isNumber() || v.doubleValue() != Math.rint(v.doubleValue()) || !v.canConvertToInt()) {
                throw fail(key, "an integer such as 8", "fix the file");
            }
            return v.intValue();
        }

        void require(String key, Object expected, String shown, String fix) {
            JsonNode v = get(key);
            if (v == null) {
                return;
            }
            boolean ok = expected instanceof Boolean b ? v.isBoolean() && v.booleanValue() == b
                    : v.isTextual() && v.textValue().equals(expected);
            if (!ok) {
                throw fail(key, shown, fix);
            }
        }

        void requireEmpty(String key, String fix) {
            JsonNode v = get(key);
            boolean empty = v == null || (v.isContainerNode() && v.size() == 0)
                    || (v.isTextual() && v.textValue().isEmpty());
            if (!empty) {
                throw fail(key, "null or empty", fix);
            }
        }

        TargetModules targets() {
            JsonNode v = get("target_modules");
            String expected = "a list of module names such as [\"q_proj\", \"v_proj\"], a regex string, or"
                    + " \"all-linear\"";
            if (v == null) {
                throw new CheckpointException(where + ": \"target_modules\" is missing or null; expected "
                        + expected + "; PEFT writes the resolved names when it saves, so this file was edited or"
                        + " written by another tool: add the adapted module names");
            }
            try {
                if (v.isTextual()) {
                    return v.textValue().equals("all-linear") ? new TargetModules.AllLinear()
                            : new TargetModules.Regex(v.textValue());
                }
                if (v.isArray()) {
                    List<String> names = new ArrayList<>();
                    for (JsonNode e : v) {
                        if (!e.isTextual()) {
                            throw fail("target_modules", expected, "fix the file");
                        }
                        names.add(e.textValue());
                    }
                    return new TargetModules.Names(names);
                }
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(where + ": " + e.getMessage(), e);
            }
            throw fail("target_modules", expected, "fix the file");
        }

        List<Integer> layers() {
            JsonNode v = get("layers_to_transform");
            if (v == null) {
                return null;
            }
            if (v.isInt()) {
                return List.of(v.intValue());
            }
            List<Integer> out = new ArrayList<>();
            if (v.isArray()) {
                for (JsonNode e : v) {
                    if (!e.isInt()) {
                        throw fail("layers_to_transform", "null, a layer index or a list of them", "fix the file");
                    }
                    out.add(e.intValue());
                }
                return out;
            }
            throw fail("layers_to_transform", "null, a layer index or a list of them", "fix the file");
        }

        /** lora4j counts layers by ".layers.N." (PEFT's layers_pattern "layers"); other patterns are refused. */
        void layersPattern() {
            JsonNode v = get("layers_pattern");
            boolean ok = v == null || (v.isTextual() && (v.textValue().isEmpty() || v.textValue().equals("layers")))
                    || (v.isArray() && (v.size() == 0 || (v.size() == 1 && "layers".equals(v.get(0).textValue()))));
            if (!ok) {
                throw fail("layers_pattern", "null or \"layers\"", "lora4j numbers decoder layers by the"
                        + " \".layers.N.\" part of Hugging Face module names");
            }
        }

        LoraInit init(Consumer<String> warnings) {
            JsonNode v = get("init_lora_weights");
            if (v == null || (v.isBoolean() && v.booleanValue())) {
                return LoraInit.KAIMING_UNIFORM;
            }
            if (v.isBoolean()) {
                return LoraInit.RANDOM;
            }
            String s = v.isTextual() ? v.textValue() : "";
            if (s.equals("gaussian")) {
                return LoraInit.GAUSSIAN;
            }
            if (s.equals("eva")) {
                warnings.accept(where + ": init_lora_weights \"eva\" only shaped the initial A; reading it as true");
                return LoraInit.KAIMING_UNIFORM;
            }
            if (s.startsWith("pissa") || s.equals("olora") || s.equals("loftq") || s.equals("corda")) {
                throw fail("init_lora_weights", "true, false or \"gaussian\"", "a " + s + " adapter only works"
                        + " on the base weights " + s + " modified at initialization; save it with PEFT's"
                        + " save_pretrained(..., path_initial_model_for_weight_conversion=...) to turn it into a"
                        + " plain LoRA adapter");
            }
            throw fail("init_lora_weights", "true, false or \"gaussian\"", "fix the file");
        }
    }
}
