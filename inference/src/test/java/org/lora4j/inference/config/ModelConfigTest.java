package org.lora4j.inference.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.model.WeightLoader;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.nd4j.linalg.api.buffer.DataType;

class ModelConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static ObjectNode llama() throws Exception {
        return (ObjectNode) JSON.readTree("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2, "rms_norm_eps": 1e-5,
                 "rope_theta": 500000.0, "vocab_size": 100, "max_position_embeddings": 256,
                 "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                   "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                 "bos_token_id": 1, "eos_token_id": [2, 3], "tie_word_embeddings": true}""");
    }

    @Test
    void parsesLlama31StyleConfig() throws Exception {
        ModelConfig c = ModelConfig.parse(llama(), "test");
        assertEquals(Architecture.LLAMA, c.architecture());
        assertEquals(8, c.headDim());
        assertEquals(4, c.numKeyValueGroups());
        assertArrayEquals(new int[] {2, 3}, c.eosTokenIds());
        assertInstanceOf(RopeScaling.Llama3.class, c.ropeScaling());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(0, c.slidingWindowForLayer(1));
        // round trip through HF's layout
        assertEquals(c.toString(), ModelConfig.parse(c.toJson(), "roundtrip").toString());
    }

    @Test
    void missingKeyNamesTheKey() throws Exception {
        ObjectNode n = llama();
        n.remove("num_hidden_layers");
        ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.parse(n, "my/config.json"));
        assertTrue(e.getMessage().contains("num_hidden_layers") && e.getMessage().contains("my/config.json"),
                e.getMessage());
    }

    @Test
    void unknownArchitectureListsSupportedOnes() throws Exception {
        ObjectNode n = llama();
        n.putArray("architectures").add("GPT2LMHeadModel");
        ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.parse(n, "x"));
        assertTrue(e.getMessage().contains("GPT2LMHeadModel") && e.getMessage().contains("Qwen2ForCausalLM"),
                e.getMessage());
    }

    @Test
    void badValuesAreRejected() throws Exception {
        ObjectNode n = llama();
        n.put("num_key_value_heads", 3);
        assertThrows(ConfigException.class, () -> ModelConfig.parse(n, "x"));
        ObjectNode m = llama();
        m.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.parse(m, "x"));
        assertTrue(e.getMessage().contains("yarn"), e.getMessage());
        ObjectNode a = llama();
        a.put("hidden_act", "gelu");
        assertThrows(ConfigException.class, () -> ModelConfig.parse(a, "x"));
    }

    @Test
    void mistralWindowAndQwenWindowRules() throws Exception {
        ObjectNode m = llama();
        m.putArray("architectures").add("MistralForCausalLM");
        m.put("sliding_window", 4096);
        assertEquals(4096, ModelConfig.parse(m, "x").slidingWindowForLayer(0));
        m.putNull("sliding_window");
        assertEquals(0, ModelConfig.parse(m, "x").slidingWindowForLayer(0));
        ObjectNode q = llama();
        q.putArray("architectures").add("Qwen2ForCausalLM");
        q.put("sliding_window", 32).put("use_sliding_window", false);
        ModelConfig qc = ModelConfig.parse(q, "x");
        assertEquals(0, qc.slidingWindowForLayer(1));
        assertTrue(qc.qkvBias());
        q.put("use_sliding_window", true).put("max_window_layers", 1);
        ModelConfig qw = ModelConfig.parse(q, "x");
        assertEquals(0, qw.slidingWindowForLayer(0));
        assertEquals(32, qw.slidingWindowForLayer(1));
    }

    @Test
    void missingConfigFileSaysWhatToDo() {
        ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.load(tmp));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }

    @Test
    void shapeMismatchNamesTheTensorAndTheConfigKey() throws Exception {
        TinyModelGenerator.write(tmp, Architecture.LLAMA, TinyModelGenerator.Size.TINY, 1, DType.F32);
        ObjectNode cfg = (ObjectNode) JSON.readTree(tmp.resolve("config.json").toFile());
        cfg.put("num_key_value_heads", 4); // the checkpoint was written with 2
        Files.writeString(tmp.resolve("config.json"), cfg.toString());
        ConfigException e = assertThrows(ConfigException.class, () -> WeightLoader.load(tmp, DataType.FLOAT));
        assertTrue(e.getMessage().contains("model.layers.0.self_attn.k_proj.weight is [32, 64]")
                && e.getMessage().contains("expects [64, 64]"), e.getMessage());
    }
}
