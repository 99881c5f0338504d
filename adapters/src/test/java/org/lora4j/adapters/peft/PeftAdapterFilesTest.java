package org.lora4j.adapters.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.LoraInit;
import org.lora4j.adapters.lora.LoraWeights;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.adapters.safetensors.CheckpointException;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.adapters.safetensors.SafetensorsFile;
import org.lora4j.adapters.safetensors.SafetensorsWriter;
import org.nd4j.linalg.api.buffer.DataType;

/** PEFT adapter folders: round trip, PEFT's key spellings, and the ways a folder can be wrong. */
class PeftAdapterFilesTest {

    @TempDir
    Path dir;

    /** 12 layers so that layer 10 would sort before layer 2 as text. */
    private static Map<String, int[]> shapes() {
        Map<String, int[]> m = new LinkedHashMap<>();
        for (int i = 0; i < 12; i++) {
            m.put("model.layers." + i + ".self_attn.q_proj", new int[] {16, 16});
            m.put("model.layers." + i + ".self_attn.v_proj", new int[] {8, 16});
        }
        m.put("lm_head", new int[] {40, 16});
        return m;
    }

    private static LoraAdapter adapter() {
        LoraConfig c = new LoraConfig(4, 8, 0.1, TargetModules.Names.of("q_proj", "v_proj"), null, true,
                LoraInit.RANDOM, "tiny-llama");
        return LoraAdapter.init(c, shapes(), 99, DataType.FLOAT);
    }

    private static float[] floats(org.nd4j.linalg.api.ndarray.INDArray x) {
        return x.dup('c').data().asFloat();
    }

    @Test
    void saveLoadRoundTripIsBitwise() throws Exception {
        LoraAdapter a = adapter();
        PeftAdapterFiles.save(dir.resolve("out"), a);
        try (Stream<Path> s = Files.list(dir.resolve("out"))) {
            assertEquals(List.of("adapter_config.json", "adapter_model.safetensors"),
                    s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("out/adapter_model.safetensors"))) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(48, f.names().size());
            assertEquals(DType.F32, f.info("base_model.model.model.layers.3.self_attn.v_proj.lora_B.weight").dtype());
            assertArrayEquals(new long[] {8, 4},
                    f.info("base_model.model.model.layers.3.self_attn.v_proj.lora_B.weight").shape());
            assertArrayEquals(new long[] {4, 16},
                    f.info("base_model.model.model.layers.3.self_attn.v_proj.lora_A.weight").shape());
        }
        List<String> warnings = new ArrayList<>();
        LoraAdapter b = PeftAdapterFiles.load(dir.resolve("out"), DataType.FLOAT, warnings::add);
        assertEquals(List.of(), warnings);
        assertEquals(a.config(), b.config());
        assertEquals(a.modules().stream().map(LoraWeights::module).collect(Collectors.toList()),
                b.modules().stream().map(LoraWeights::module).collect(Collectors.toList()), "model order");
        for (LoraWeights w : a.modules()) {
            LoraWeights v = b.get(w.module());
            assertArrayEquals(floats(w.a()), floats(v.a()), 0f, w.module());
            assertArrayEquals(floats(w.b()), floats(v.b()), 0f, w.module());
            assertEquals(w.scale(), v.scale());
        }
        assertEquals(DataType.DOUBLE, PeftAdapterFiles.load(dir.resolve("out"), DataType.DOUBLE, w -> { })
                .get("model.layers.0.self_attn.q_proj").a().dataType());
    }

    @Test
    void allLinearIsSavedAsTheResolvedNames() throws Exception {
        LoraAdapter a = LoraAdapter.init(LoraConfig.of(2, 4, new TargetModules.AllLinear()), shapes(), 1,
                DataType.FLOAT);
        PeftAdapterFiles.save(dir, a);
        assertEquals("[\"q_proj\",\"v_proj\"]", new ObjectMapper().readTree(
                dir.resolve("adapter_config.json").toFile()).get("target_modules").toString());
    }

    /** Writes a PEFT-style folder with the given tensors (F32 values i/100) and the config text. */
    private Path peftFolder(String name, Map<String, long[]> tensors, String config) throws Exception {
        Path d = dir.resolve(name);
        List<SafetensorsWriter.Tensor> ts = new ArrayList<>();
        tensors.forEach((k, shape) -> {
            float[] v = new float[(int) (shape[0] * shape[1])];
            for (int i = 0; i < v.length; i++) {
                v[i] = i / 100f;
            }
            ts.add(new SafetensorsWriter.Tensor(k, DType.BF16, shape, () -> v));
        });
        SafetensorsWriter.write(d.resolve("adapter_model.safetensors"), ts, Map.of("format", "pt"));
        Files.writeString(d.resolve("adapter_config.json"), config, StandardCharsets.UTF_8);
        return d;
    }

    private static final String CONFIG = "{\"peft_type\": \"LORA\", \"r\": 2, \"lora_alpha\": 4,"
            + " \"target_modules\": [\"q_proj\"], \"use_dora\": false, \"megatron_config\": null}";
    private static final String A0 = "base_model.model.model.layers.0.self_attn.q_proj.lora_A";
    private static final String B0 = "base_model.model.model.layers.0.self_attn.q_proj.lora_B";

    @Test
    void acceptsKeysWithThePeftAdapterName() throws Exception {
        Path d = peftFolder("named", Map.of(A0 + ".default.weight", new long[] {2, 6}, B0 + ".default.weight",
                new long[] {5, 2}), CONFIG);
        List<String> warnings = new ArrayList<>();
        LoraAdapter a = PeftAdapterFiles.load(d, DataType.FLOAT, warnings::add);
        LoraWeights w = a.get("model.layers.0.self_attn.q_proj");
        assertEquals(6, w.inFeatures());
        assertEquals(5, w.outFeatures());
        assertEquals(2.0, w.scale());
        assertEquals(0.05f, w.a().getFloat(0, 5), 1e-3f); // BF16 widened
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains("megatron_config"), warnings.get(0));
    }

    private static void assertFails(Path d, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> PeftAdapterFiles.load(d, DataType.FLOAT, w -> { }));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void missingLoraBIsAnError() throws Exception {
        Path d = peftFolder("noB", Map.of(A0 + ".weight", new long[] {2, 6}), CONFIG);
        assertFails(d, A0 + ".weight", "no lora_B for module model.layers.0.self_attn.q_proj", "re-save");
    }

    @Test
    void shapeInconsistentWithRIsAnError() throws Exception {
        Path d = peftFolder("badShape", Map.of(A0 + ".weight", new long[] {3, 6}, B0 + ".weight",
                new long[] {5, 3}), CONFIG);
        assertFails(d, A0 + ".weight", "[3, 6]", "(r=2) expects [r=2, in]", "adapter_config.json");
    }

    @Test
    void missingFilesAreErrors() throws Exception {
        Path d = peftFolder("ok", Map.of(A0 + ".weight", new long[] {2, 6}, B0 + ".weight", new long[] {5, 2}),
                CONFIG);
        Files.delete(d.resolve("adapter_model.safetensors"));
        Files.writeString(d.resolve("adapter_model.bin"), "pickle");
        assertFails(d, "no adapter_model.safetensors", "safe_serialization=True");
        Files.delete(d.resolve("adapter_config.json"));
        assertFails(d, "has no adapter_config.json");
        assertFails(dir.resolve("nowhere"), "does not exist");
    }

    @Test
    void foreignTensorsAreErrors() throws Exception {
        Path d = peftFolder("dora", Map.of(A0 + ".weight", new long[] {2, 6}, B0 + ".weight", new long[] {5, 2},
                "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", new long[] {1, 5}), CONFIG);
        assertFails(d, "lora_magnitude_vector", "DoRA");
    }

    @Test
    void checkFitsNamesTheMismatch() {
        LoraAdapter a = adapter();
        Map<String, int[]> base = new LinkedHashMap<>(shapes());
        PeftAdapterFiles.checkFits(a, base, "/models/tiny"); // fits
        base.put("model.layers.3.self_attn.q_proj", new int[] {576, 576});
        base.remove("model.layers.5.self_attn.v_proj");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> PeftAdapterFiles.checkFits(a, base, "/models/small"));
        assertTrue(e.getMessage().startsWith("adapter targets model.layers.3.self_attn.q_proj [r=4, in=16, out=16]"
                + " but the base model's is [in=576, out=576]: this adapter was trained on a different base model"),
                e.getMessage());
        assertTrue(e.getMessage().contains("model.layers.5.self_attn.v_proj [r=4, in=16, out=8] but the base model"
                + " has no linear layer of that name"), e.getMessage());
        assertTrue(e.getMessage().contains("2 of 24"), e.getMessage());
        assertTrue(e.getMessage().contains("tiny-llama"), e.getMessage());
        assertTrue(e.getMessage().contains("/models/small"), e.getMessage());
    }
}
