package org.lora4j.adapters.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.safetensors.Checkpoint;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.adapters.safetensors.SafetensorsWriter;

/** Finding a base's linear layers from its tensor names, in model order. */
class LinearModulesTest {

    @TempDir
    Path dir;

    private static SafetensorsWriter.Tensor t(String name, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        return new SafetensorsWriter.Tensor(name, DType.BF16, shape, () -> v);
    }

    @Test
    void linearShapesSkipsEmbeddingsAndNormsAndSortsLayersNumerically() {
        int layers = 12; // layer 10 sorts before layer 2 as text
        Map<String, int[]> expected = LlamaShapes.of(layers, 8, 4, 16, 32);
        List<SafetensorsWriter.Tensor> ts = new ArrayList<>();
        expected.forEach((m, s) -> ts.add(t(m + ".weight", s[0], s[1])));
        ts.add(t("model.embed_tokens.weight", 32, 8));
        ts.add(t("model.norm.weight", 8));
        for (int i = 0; i < layers; i++) {
            ts.add(t("model.layers." + i + ".input_layernorm.weight", 8));
            ts.add(t("model.layers." + i + ".self_attn.q_proj.bias", 8));
        }
        Collections.shuffle(ts, new Random(5));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), ts, Map.of("format", "pt"));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            Map<String, int[]> found = LinearModules.linearShapes(ckpt);
            assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(found.keySet()));
            expected.forEach((m, s) -> assertArrayEquals(s, found.get(m), m));
        }
    }

    @Test
    void layerIndexIsTheNumberAfterLayers() {
        assertEquals(12, LinearModules.layerIndex("model.layers.12.mlp.experts.3.up_proj").getAsInt());
        assertEquals(false, LinearModules.layerIndex("lm_head").isPresent());
    }
}
