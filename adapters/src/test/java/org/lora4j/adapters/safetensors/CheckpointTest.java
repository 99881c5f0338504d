package org.lora4j.adapters.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
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

/** Hugging Face model folders: single file, sharded with an index, and the ways a folder can be incomplete. */
class CheckpointTest {

    @TempDir
    Path dir;

    /** Five 64-byte F32 tensors with HF names; values encode (layer, index) so mix-ups show. */
    private static List<SafetensorsWriter.Tensor> fiveTensors() {
        List<SafetensorsWriter.Tensor> ts = new ArrayList<>();
        for (int layer = 0; layer < 5; layer++) {
            float[] v = values(layer);
            ts.add(new SafetensorsWriter.Tensor("model.layers." + layer + ".mlp.up_proj.weight", DType.F32,
                    new long[] {4, 4}, () -> v.clone()));
        }
        return ts;
    }

    private static float[] values(int layer) {
        float[] v = new float[16];
        for (int i = 0; i < 16; i++) {
            v[i] = layer * 100 + i;
        }
        return v;
    }

    private List<String> folder() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    private static CheckpointException assertOpenFails(Path modelDir, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(modelDir).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
        return e;
    }

    @Test
    void shardedWriteAndReadRoundTrip() throws IOException {
        List<Path> written = SafetensorsWriter.writeSharded(dir, fiveTensors(), Map.of("format", "pt"), 150);
        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                        "model-00003-of-00003.safetensors", "model.safetensors.index.json"),
                written.stream().map(p -> p.getFileName().toString()).collect(Collectors.toList()));
        assertEquals(written.stream().map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()),
                folder(), "no temporary or extra files");

        JsonNode index = new ObjectMapper().readTree(dir.resolve("model.safetensors.index.json").toFile());
        assertEquals(5 * 64, index.path("metadata").path("total_size").asLong());
        JsonNode wm = index.path("weight_map");
        assertEquals(5, wm.size());
        assertEquals("model-00001-of-00003.safetensors", wm.path("model.layers.0.mlp.up_proj.weight").asText());
        assertEquals("model-00001-of-00003.safetensors", wm.path("model.layers.1.mlp.up_proj.weight").asText());
        assertEquals("model-00002-of-00003.safetensors", wm.path("model.layers.2.mlp.up_proj.weight").asText());
        assertEquals("model-00002-of-00003.safetensors", wm.path("model.layers.3.mlp.up_proj.weight").asText());
        assertEquals("model-00003-of-00003.safetensors", wm.path("model.layers.4.mlp.up_proj.weight").asText());
        String text = Files.readString(dir.resolve("model.safetensors.index.json"));
        assertTrue(text.startsWith("{\n  \"metadata\": {\n    \"total_size\": 320\n  },\n  \"weight_map\": {\n"), text);

        try (SafetensorsFile shard = SafetensorsFile.open(written.get(1))) {
            assertEquals(List.of("model.layers.2.mlp.up_proj.weight", "model.layers.3.mlp.up_proj.weight"),
                    shard.names());
            assertEquals(Map.of("format", "pt"), shard.metadata());
        }
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(dir, ckpt.dir());
            assertEquals(written.subList(0, 3), ckpt.files());
            assertEquals(5, ckpt.names().size());
            for (int layer = 0; layer < 5; layer++) {
                String n = "model.layers." + layer + ".mlp.up_proj.weight";
                assertTrue(ckpt.contains(n));
                assertArrayEquals(values(layer), ckpt.readFloat32(n), n);
                assertArrayEquals(new long[] {4, 4}, ckpt.info(n).shape());
                assertEquals(64, ckpt.rawBytes(n).remaining());
            }
            assertFalse(ckpt.contains("lm_head.weight"));
            CheckpointException e = assertThrows(CheckpointException.class, () -> ckpt.info("lm_head.weight"));
            assertTrue(e.getMessage().contains("'lm_head.weight' not found in checkpoint " + dir), e.getMessage());
        }
    }

    @Test
    void aTensorLargerThanTheLimitGetsAShardOfItsOwn() throws IOException {
        List<SafetensorsWriter.Tensor> ts = fiveTensors();
        List<Path> written = SafetensorsWriter.writeSharded(dir, ts, Map.of(), 10);
        assertEquals(6, written.size()); // 5 shards + the index
        assertTrue(written.get(4).getFileName().toString().equals("model-00005-of-00005.safetensors"));
    }

    @Test
    void oneShardIsASingleModelFileAndStaleShardsGo() throws IOException {
        SafetensorsWriter.writeSharded(dir, fiveTensors(), Map.of(), 150);
        Files.writeString(dir.resolve("config.json"), "{}");
        List<Path> written = SafetensorsWriter.writeSharded(dir, fiveTensors(), Map.of(), 5_000_000_000L);
        assertEquals(List.of(dir.resolve("model.safetensors")), written);
        assertEquals(List.of("config.json", "model.safetensors"), folder(), "the earlier shards and index are gone");
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(List.of(dir.resolve("model.safetensors")), ckpt.files());
            assertArrayEquals(values(3), ckpt.readFloat32("model.layers.3.mlp.up_proj.weight"));
        }
        SafetensorsWriter.writeSharded(dir, fiveTensors(), Map.of(), 200);
        assertFalse(Files.exists(dir.resolve("model.safetensors")), "a single file would shadow the new shards");
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(2, ckpt.files().size());
            assertArrayEquals(values(4), ckpt.readFloat32("model.layers.4.mlp.up_proj.weight"));
        }
    }

    @Test
    void singleFileKeepsHeaderOrder() throws IOException {
        Files.write(dir.resolve("model.safetensors"), SafetensorsFileTest.GOLDEN);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(List.of("s", "z", "b"), ckpt.names());
            assertArrayEquals(new float[] {1, -2, 3, 4}, ckpt.readFloat32("z"));
        }
    }

    @Test
    void missingShard() throws IOException {
        SafetensorsWriter.writeSharded(dir, fiveTensors(), Map.of(), 150);
        Files.delete(dir.resolve("model-00002-of-00003.safetensors"));
        assertOpenFails(dir, "model.safetensors.index.json", "missing from " + dir, "model-00002-of-00003.safetensors",
                "'model.layers.2.mlp.up_proj.weight'", "re-download", "model-00003-of-00003.safetensors");
    }

    @Test
    void tensorMissingFromItsShard() throws IOException {
        SafetensorsWriter.writeSharded(dir, fiveTensors(), Map.of(), 150);
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, Files.readString(index).replace(
                "\"model.layers.0.mlp.up_proj.weight\": \"model-00001-of-00003.safetensors\"",
                "\"model.layers.0.mlp.up_proj.weight\": \"model-00003-of-00003.safetensors\""));
        assertOpenFails(dir, "'model.layers.0.mlp.up_proj.weight' is in model-00003-of-00003.safetensors",
                "no such tensor", "do not belong together");
    }

    @Test
    void malformedIndex() throws IOException {
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"metadata\": {}}");
        assertOpenFails(dir, "no \"weight_map\" object", index.toString());
        Files.writeString(index, "{\"weight_map\": {\"w\": \"../elsewhere/model.safetensors\"}}");
        assertOpenFails(dir, "'w'", "../elsewhere", "same folder");
        Files.writeString(index, "{\"weight_map\": ");
        assertOpenFails(dir, "not readable JSON", index.toString());
    }

    @Test
    void folderWithoutWeightsListsWhatItHolds() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{}");
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {1});
        assertOpenFails(dir, "neither model.safetensors nor model.safetensors.index.json",
                "config.json, pytorch_model.bin", "PyTorch", "safe_serialization=True");
        Files.delete(dir.resolve("pytorch_model.bin"));
        Files.write(dir.resolve("adapter_model.safetensors"), SafetensorsFileTest.GOLDEN);
        assertOpenFails(dir, "adapter_model.safetensors", "SafetensorsFile.open");
        assertOpenFails(dir.resolve("nowhere"), "does not exist");
        assertOpenFails(dir.resolve("config.json"), "is a file, not a model folder");
    }

    @Test
    void corruptShardNamesTheShard() throws IOException {
        SafetensorsWriter.writeSharded(dir, fiveTensors(), Map.of(), 150);
        Path shard = dir.resolve("model-00003-of-00003.safetensors");
        byte[] b = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(b, b.length - 1)); // truncated download
        assertOpenFails(dir, shard.toString(), "past the end", "re-download");
    }

    @Test
    void indexOrderIsKept() throws IOException {
        SafetensorsWriter.writeSharded(dir, fiveTensors(), Map.of(), 150);
        Map<String, String> weightMap = new LinkedHashMap<>();
        weightMap.put("model.layers.4.mlp.up_proj.weight", "model-00003-of-00003.safetensors");
        weightMap.put("model.layers.0.mlp.up_proj.weight", "model-00001-of-00003.safetensors");
        String json = new ObjectMapper().writeValueAsString(Map.of("weight_map", weightMap));
        Files.write(dir.resolve("model.safetensors.index.json"), json.getBytes(StandardCharsets.UTF_8));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(List.copyOf(weightMap.keySet()), ckpt.names());
            assertEquals(2, ckpt.files().size(), "shards the index does not name are not opened");
        }
    }
}
