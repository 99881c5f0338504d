package org.lora4j.adapters.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lora4j.adapters.Parameter;
import org.nd4j.linalg.api.buffer.DataType;

class LoraAdapterTest {

    // 2 layers, hidden 64, 4 KV heads of 8 -> kv 32, MLP 172, vocab 100
    private static final Map<String, int[]> SHAPES = LlamaShapes.of(2, 64, 32, 172, 100);

    @Test
    void trainableParameterCountIsSumOfRTimesInPlusOut() {
        LoraAdapter all = LoraAdapter.init(LoraConfig.of(8, 16, new TargetModules.AllLinear()), SHAPES, 1,
                DataType.FLOAT);
        // per layer: q 8(64+64) + k 8(64+32) + v 8(64+32) + o 8(64+64) + gate 8(64+172) + up 8(64+172) + down 8(172+64)
        long perLayer = 8L * (128 + 96 + 96 + 128 + 236 + 236 + 236);
        assertEquals(2 * perLayer, all.trainableParameterCount());
        long counted = all.parameters().stream().mapToLong(p -> p.value().length()).sum();
        assertEquals(all.trainableParameterCount(), counted);

        LoraAdapter qv = LoraAdapter.init(LoraConfig.of(4, 8, TargetModules.Names.of("q_proj", "v_proj")), SHAPES, 1,
                DataType.FLOAT);
        assertEquals(2 * 4L * ((64 + 64) + (64 + 32)), qv.trainableParameterCount());
    }

    @Test
    void parametersAreAThenBPerModuleInModelOrderWithZeroGradients() {
        LoraAdapter a = LoraAdapter.init(LoraConfig.of(4, 8, TargetModules.Names.of("v_proj", "q_proj")), SHAPES, 1,
                DataType.FLOAT);
        List<Parameter> ps = a.parameters();
        assertEquals(8, ps.size());
        assertEquals("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", ps.get(0).name());
        assertEquals("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", ps.get(1).name());
        assertEquals("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", ps.get(2).name());
        assertEquals("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", ps.get(7).name());
        assertArrayEquals(new long[] {32, 4}, ps.get(3).value().shape()); // v_proj B [out=kv, r]
        for (Parameter p : ps) {
            assertEquals(0.0, p.grad().norm1Number().doubleValue(), 0);
        }
        LoraWeights q0 = a.get("model.layers.0.self_attn.q_proj");
        assertSame(q0.a(), ps.get(0).value());
        assertSame(q0.gradA(), ps.get(0).grad());
        assertSame(q0.gradA(), a.parameters().get(0).grad()); // gradients are allocated once
        assertNull(a.get("model.layers.0.self_attn.k_proj"));
        assertEquals(2.0, q0.scale());
    }

    @Test
    void modulesOfAnotherRankAreRefused() {
        LoraConfig c = LoraConfig.of(4, 8, TargetModules.Names.of("q_proj"));
        LoraWeights r2 = LoraWeights.init("model.layers.0.self_attn.q_proj", 64, 64, LoraConfig.of(2, 8,
                TargetModules.Names.of("q_proj")), 1, DataType.FLOAT);
        assertThrows(IllegalArgumentException.class, () -> new LoraAdapter(c, List.of(r2)));
    }
}
