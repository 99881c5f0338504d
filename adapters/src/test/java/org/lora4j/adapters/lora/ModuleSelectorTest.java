package org.lora4j.adapters.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** PEFT's check_target_module_exists semantics over the linear layers of a 3-layer Llama. */
class ModuleSelectorTest {

    private static final List<String> MODULES = new ArrayList<>(LlamaShapes.of(3, 8, 4, 16, 32).keySet());

    private static List<String> select(TargetModules t, List<Integer> layers) {
        return ModuleSelector.select(MODULES, new LoraConfig(4, 8, 0, t, layers, false, LoraInit.KAIMING_UNIFORM,
                null));
    }

    @Test
    void namesMatchByDottedSuffixInModelOrder() {
        assertEquals(List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                        "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj",
                        "model.layers.2.self_attn.q_proj", "model.layers.2.self_attn.v_proj"),
                select(TargetModules.Names.of("v_proj", "q_proj"), null));
        // a longer suffix narrows; "proj" alone is not a dotted suffix of anything
        assertEquals(3, select(TargetModules.Names.of("mlp.up_proj"), null).size());
        assertThrows(IllegalArgumentException.class, () -> select(TargetModules.Names.of("proj"), null));
    }

    @Test
    void fullNameMatchesExactly() {
        assertEquals(List.of("model.layers.1.mlp.down_proj", "lm_head"),
                select(TargetModules.Names.of("lm_head", "model.layers.1.mlp.down_proj"), null));
    }

    @Test
    void regexIsAFullMatchOfTheWholeName() {
        assertEquals(List.of("model.layers.1.self_attn.k_proj", "model.layers.1.self_attn.v_proj"),
                select(new TargetModules.Regex(".*\\.1\\.self_attn\\.(k|v)_proj"), null));
        // a search would find "q_proj" inside every q_proj name; fullmatch does not
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> select(new TargetModules.Regex("q_proj"), null));
        assertTrue(e.getMessage().contains("matched no layer"), e.getMessage());
    }

    @Test
    void allLinearIsEveryLinearButLmHead() {
        List<String> all = select(new TargetModules.AllLinear(), null);
        assertEquals(21, all.size());
        assertTrue(all.stream().noneMatch(m -> m.contains("lm_head")));
        assertEquals(MODULES.subList(0, 21), all);
    }

    @Test
    void layersToTransformKeepsListedLayers() {
        assertEquals(List.of("model.layers.0.self_attn.q_proj", "model.layers.2.self_attn.q_proj"),
                select(TargetModules.Names.of("q_proj"), List.of(2, 0)));
        List<String> allLinear = select(new TargetModules.AllLinear(), List.of(1));
        assertEquals(7, allLinear.size());
        assertTrue(allLinear.stream().allMatch(m -> m.startsWith("model.layers.1.")));
    }

    @Test
    void noMatchListsTheAvailableNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> select(TargetModules.Names.of("q_proj", "qproj"), null));
        assertEquals("target_modules 'qproj' matched no layer; available: q_proj, k_proj, v_proj, o_proj,"
                + " gate_proj, up_proj, down_proj, lm_head", e.getMessage());
    }

    @Test
    void aLayerThatDoesNotExistIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> select(TargetModules.Names.of("q_proj"), List.of(1, 3)));
        assertTrue(e.getMessage().contains("layers_to_transform lists [3]"), e.getMessage());
        assertTrue(e.getMessage().contains("layers 0..2"), e.getMessage());
    }
}
