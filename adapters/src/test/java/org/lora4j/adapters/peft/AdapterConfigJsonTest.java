package org.lora4j.adapters.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.LoraInit;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.adapters.safetensors.CheckpointException;

/** adapter_config.json as PEFT's LoraConfig writes and reads it. */
class AdapterConfigJsonTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Written by hand from PEFT's LoraConfig fields (the subset PEFT 0.6+ and vLLM read), sorted like json.dumps. */
    private static final String EXPECTED = """
            {
              "alpha_pattern": {},
              "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M-Instruct",
              "bias": "none",
              "fan_in_fan_out": false,
              "inference_mode": true,
              "init_lora_weights": true,
              "layers_pattern": null,
              "layers_to_transform": null,
              "lora_alpha": 32,
              "lora_dropout": 0.05,
              "modules_to_save": null,
              "peft_type": "LORA",
              "r": 16,
              "rank_pattern": {},
              "revision": null,
              "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
              "task_type": "CAUSAL_LM",
              "use_dora": false,
              "use_rslora": false
            }
            """;

    private static LoraConfig smolConfig() {
        return new LoraConfig(16, 32, 0.05, TargetModules.Names.of("q_proj", "k_proj", "v_proj", "o_proj"), null,
                false, LoraInit.KAIMING_UNIFORM, "HuggingFaceTB/SmolLM2-135M-Instruct");
    }

    /** The tree as a reader sees it after the file is written (ints as ints, floats as doubles). */
    private static JsonNode written(LoraConfig c) throws Exception {
        return JSON.readTree(JsonFiles.pretty(AdapterConfigJson.toJson(c)));
    }

    @Test
    void writesPeftsKeysValuesAndTypes() throws Exception {
        JsonNode got = written(smolConfig());
        JsonNode expected = JSON.readTree(EXPECTED);
        assertEquals(expected, got);
        List<String> keys = new ArrayList<>();
        got.fieldNames().forEachRemaining(keys::add);
        List<String> sorted = new ArrayList<>(keys);
        sorted.sort(null);
        assertEquals(sorted, keys, "keys are sorted as json.dumps(sort_keys=True) writes them");
        assertTrue(got.get("r").isInt());
        assertTrue(got.get("lora_alpha").isIntegralNumber(), "PEFT types lora_alpha as int");
        assertTrue(got.get("lora_dropout").isDouble());
        assertTrue(got.get("use_rslora").isBoolean());
    }

    @Test
    void writesOtherTargetsInitsAndLayers() throws Exception {
        LoraConfig c = new LoraConfig(8, 12.5, 0, new TargetModules.Regex(".*\\.(q|v)_proj"), null, true,
                LoraInit.GAUSSIAN, null);
        JsonNode n = written(c);
        assertEquals(".*\\.(q|v)_proj", n.get("target_modules").textValue());
        assertEquals("gaussian", n.get("init_lora_weights").textValue());
        assertEquals(12.5, n.get("lora_alpha").doubleValue());
        assertTrue(n.get("use_rslora").booleanValue());
        assertTrue(n.get("base_model_name_or_path").isNull());

        JsonNode l = written(new LoraConfig(8, 16, 0, new TargetModules.AllLinear(), List.of(0, 2), false,
                LoraInit.RANDOM, null));
        assertEquals("all-linear", l.get("target_modules").textValue());
        assertEquals(false, l.get("init_lora_weights").booleanValue());
        assertEquals(JSON.readTree("[0, 2]"), l.get("layers_to_transform"));
        assertEquals("layers", l.get("layers_pattern").textValue());
    }

    @Test
    void roundTrips() throws Exception {
        for (LoraConfig c : List.of(smolConfig(), new LoraConfig(4, 7.5, 0.1, new TargetModules.Regex(".*q_proj"),
                null, true, LoraInit.GAUSSIAN, null), new LoraConfig(2, 4, 0, new TargetModules.AllLinear(),
                List.of(3), false, LoraInit.RANDOM, "x"))) {
            List<String> warnings = new ArrayList<>();
            assertEquals(c, AdapterConfigJson.parse(written(c), "test", warnings::add));
            assertEquals(List.of(), warnings);
        }
    }

    /** What PEFT 0.15 writes for a SmolLM2 adapter (keys lora4j does not use included). */
    private static final String PEFT_WRITTEN = """
            {
              "alpha_pattern": {},
              "auto_mapping": null,
              "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M",
              "bias": "none",
              "corda_config": null,
              "eva_config": null,
              "exclude_modules": null,
              "fan_in_fan_out": false,
              "inference_mode": true,
              "init_lora_weights": true,
              "layer_replication": null,
              "layers_pattern": null,
              "layers_to_transform": null,
              "loftq_config": {},
              "lora_alpha": 16,
              "lora_bias": false,
              "lora_dropout": 0.05,
              "megatron_config": null,
              "megatron_core": "megatron.core",
              "modules_to_save": null,
              "peft_type": "LORA",
              "r": 8,
              "rank_pattern": {},
              "revision": null,
              "target_modules": ["v_proj", "q_proj"],
              "task_type": "CAUSAL_LM",
              "trainable_token_indices": null,
              "use_dora": false,
              "use_rslora": false
            }
            """;

    @Test
    void readsPeftWrittenConfigWithOneWarningForUnusedKeys() throws Exception {
        List<String> warnings = new ArrayList<>();
        LoraConfig c = AdapterConfigJson.parse(JSON.readTree(PEFT_WRITTEN), "adapter_config.json", warnings::add);
        assertEquals(8, c.r());
        assertEquals(16, c.loraAlpha());
        assertEquals(0.05, c.loraDropout());
        assertEquals(TargetModules.Names.of("v_proj", "q_proj"), c.targetModules());
        assertEquals(LoraInit.KAIMING_UNIFORM, c.initLoraWeights());
        assertEquals("HuggingFaceTB/SmolLM2-135M", c.baseModelNameOrPath());
        assertNull(c.layersToTransform());
        assertEquals(1, warnings.size(), warnings.toString());
        assertEquals("adapter_config.json: ignoring 6 key(s) lora4j does not use: corda_config, eva_config,"
                + " exclude_modules, loftq_config, megatron_config, megatron_core", warnings.get(0));
    }

    private static ObjectNode peft() throws Exception {
        return (ObjectNode) JSON.readTree(PEFT_WRITTEN);
    }

    private static void assertRefused(ObjectNode n, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> AdapterConfigJson.parse(n, "/a/adapter_config.json", w -> { }));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void refusesWhatLora4jCannotApply() throws Exception {
        assertRefused((ObjectNode) peft().put("use_dora", true), "/a/adapter_config.json", "\"use_dora\" is true",
                "DoRA");
        assertRefused((ObjectNode) peft().put("fan_in_fan_out", true), "fan_in_fan_out", "Conv1D");
        assertRefused((ObjectNode) peft().put("bias", "lora_only"), "\"bias\" is \"lora_only\"", "\"none\"");
        ObjectNode mts = peft();
        mts.putArray("modules_to_save").add("lm_head");
        assertRefused(mts, "modules_to_save", "[\"lm_head\"]");
        ObjectNode rp = peft();
        rp.putObject("rank_pattern").put("q_proj", 4);
        assertRefused(rp, "rank_pattern", "per-module ranks");
        assertRefused((ObjectNode) peft().put("peft_type", "IA3"), "peft_type", "IA3");
        assertRefused((ObjectNode) peft().put("init_lora_weights", "pissa"), "pissa",
                "path_initial_model_for_weight_conversion");
        assertRefused((ObjectNode) peft().put("r", 0), "r (the LoRA rank) is 0");
        assertRefused((ObjectNode) peft().put("r", "8"), "\"r\" is \"8\"");
        assertRefused((ObjectNode) peft().putNull("target_modules"), "target_modules");
        ObjectNode rep = peft();
        rep.putArray("layer_replication").addArray().add(0).add(4);
        assertRefused(rep, "layer_replication");
    }

    @Test
    void mapsPeftsOtherSpellings() throws Exception {
        List<String> w = new ArrayList<>();
        ObjectNode n = (ObjectNode) peft().put("target_modules", "all-linear").put("layers_to_transform", 3)
                .put("init_lora_weights", "gaussian");
        LoraConfig c = AdapterConfigJson.parse(n, "f", w::add);
        assertEquals(new TargetModules.AllLinear(), c.targetModules());
        assertEquals(List.of(3), c.layersToTransform());
        assertEquals(LoraInit.GAUSSIAN, c.initLoraWeights());
        assertEquals(new TargetModules.Regex(".*\\.q_proj"), AdapterConfigJson.parse(
                peft().put("target_modules", ".*\\.q_proj"), "f", w::add).targetModules());
        assertEquals(LoraInit.RANDOM, AdapterConfigJson.parse(peft().put("init_lora_weights", false), "f",
                w::add).initLoraWeights());
    }
}
