package org.lora4j.adapters.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoraConfigTest {

    private static LoraConfig cfg(int r, double alpha, double dropout, boolean rslora) {
        return new LoraConfig(r, alpha, dropout, TargetModules.Names.of("q_proj"), null, rslora,
                LoraInit.KAIMING_UNIFORM, null);
    }

    @Test
    void scaleIsAlphaOverR() {
        assertEquals(2.0, cfg(8, 16, 0, false).scale(), 0);
        assertEquals(0.5, cfg(32, 16, 0, false).scale(), 0);
    }

    @Test
    void rsLoraScaleIsAlphaOverSqrtR() {
        assertEquals(16 / Math.sqrt(8), cfg(8, 16, 0, true).scale(), 1e-15);
        assertEquals(4.0, cfg(16, 16, 0, true).scale(), 0);
        assertTrue(cfg(16, 16, 0, true).scale() != cfg(16, 16, 0, false).scale());
    }

    private static void assertRejected(Runnable make, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make::run);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void validationNamesThePeftField() {
        assertRejected(() -> cfg(0, 16, 0, false), "r (the LoRA rank) is 0", "positive");
        assertRejected(() -> cfg(8, 0, 0, false), "lora_alpha is 0.0");
        assertRejected(() -> cfg(8, Double.NaN, 0, false), "lora_alpha is NaN");
        assertRejected(() -> cfg(8, 16, 1.0, false), "lora_dropout is 1.0", "[0, 1)");
        assertRejected(() -> cfg(8, 16, -0.1, false), "lora_dropout is -0.1");
        assertRejected(() -> new LoraConfig(8, 16, 0, null, null, false, LoraInit.GAUSSIAN, null), "target_modules");
        assertRejected(() -> new LoraConfig(8, 16, 0, TargetModules.Names.of("q_proj"), List.of(-1), false,
                LoraInit.GAUSSIAN, null), "layers_to_transform", "-1");
        assertRejected(() -> new LoraConfig(8, 16, 0, new TargetModules.Regex(".*q_proj"), List.of(0), false,
                LoraInit.GAUSSIAN, null), "layers_to_transform", "regex");
        assertRejected(() -> new TargetModules.Regex("(q_proj"), "does not compile");
        assertRejected(() -> new TargetModules.Names(List.of()), "empty");
    }

    @Test
    void emptyLayerListMeansAllLayersAsInPeft() {
        LoraConfig c = new LoraConfig(8, 16, 0, TargetModules.Names.of("q_proj"), List.of(), false,
                LoraInit.KAIMING_UNIFORM, null);
        assertNull(c.layersToTransform());
    }
}
