package org.lora4j.adapters.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** PEFT's initializations (LoraLayer.reset_lora_parameters), checked statistically, and the pair's bookkeeping. */
class LoraWeightsTest {

    private static final String Q = "model.layers.0.self_attn.q_proj";

    private static LoraConfig cfg(int r, LoraInit init) {
        return new LoraConfig(r, 2 * r, 0, TargetModules.Names.of("q_proj"), null, false, init, null);
    }

    private static double[] values(INDArray x) {
        return x.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    private static double std(double[] v) {
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / v.length);
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    @Test
    void kaimingUniformAIsBoundedBy1OverSqrtInAndBIsZero() {
        int in = 400;
        int r = 16;
        LoraWeights w = LoraWeights.init(Q, in, 300, cfg(r, LoraInit.KAIMING_UNIFORM), 42, DataType.FLOAT);
        assertArrayEquals(new long[] {r, in}, w.a().shape());
        assertArrayEquals(new long[] {300, r}, w.b().shape());
        double bound = 1 / Math.sqrt(in); // 0.05
        double[] a = values(w.a());
        assertTrue(maxAbs(a) <= bound, "max |A| " + maxAbs(a) + " exceeds " + bound);
        assertTrue(maxAbs(a) > 0.99 * bound, "max |A| " + maxAbs(a) + " does not reach the bound " + bound);
        assertEquals(bound / Math.sqrt(3), std(a), 0.02 * bound / Math.sqrt(3)); // U(-b, b) has std b/√3
        assertEquals(0, mean(a), 0.05 * bound);
        assertEquals(0, maxAbs(values(w.b())), 0);
    }

    @Test
    void gaussianAHasStd1OverRAndBIsZero() {
        int r = 8;
        LoraWeights w = LoraWeights.init(Q, 1000, 64, cfg(r, LoraInit.GAUSSIAN), 7, DataType.FLOAT);
        double[] a = values(w.a());
        assertEquals(1.0 / r, std(a), 0.03 / r);
        assertEquals(0, mean(a), 0.05 / r);
        assertTrue(maxAbs(a) > 3.0 / r, "8000 normal draws should reach 3 sigma");
        assertEquals(0, maxAbs(values(w.b())), 0);
    }

    @Test
    void randomInitHasNonZeroBBoundedBy1OverSqrtR() {
        int r = 4;
        LoraWeights w = LoraWeights.init(Q, 64, 500, cfg(r, LoraInit.RANDOM), 3, DataType.DOUBLE);
        double[] b = values(w.b());
        assertTrue(maxAbs(b) <= 0.5 && maxAbs(b) > 0.49, "max |B| " + maxAbs(b) + " vs bound 1/sqrt(4)");
        assertTrue(maxAbs(values(w.a())) <= 1 / 8.0);
        assertEquals(DataType.DOUBLE, w.a().dataType());
    }

    @Test
    void initIsDeterministicPerSeedAndModule() {
        LoraConfig c = cfg(4, LoraInit.RANDOM);
        double[] first = values(LoraWeights.init(Q, 32, 16, c, 1, DataType.FLOAT).a());
        assertArrayEquals(first, values(LoraWeights.init(Q, 32, 16, c, 1, DataType.FLOAT).a()), 0);
        assertFalse(java.util.Arrays.equals(first, values(LoraWeights.init(Q, 32, 16, c, 2, DataType.FLOAT).a())));
        assertFalse(java.util.Arrays.equals(first, values(LoraWeights.init("model.layers.1.self_attn.q_proj", 32,
                16, c, 1, DataType.FLOAT).a())));
    }

    @Test
    void deltaIsScaledBTimesA() {
        LoraWeights w = LoraWeights.init(Q, 5, 3, cfg(2, LoraInit.RANDOM), 11, DataType.DOUBLE);
        assertEquals(2.0, w.scale()); // alpha 2r over r
        INDArray d = w.delta();
        assertArrayEquals(new long[] {3, 5}, d.shape());
        for (int o = 0; o < 3; o++) {
            for (int i = 0; i < 5; i++) {
                double s = 0;
                for (int k = 0; k < 2; k++) {
                    s += w.b().getDouble(o, k) * w.a().getDouble(k, i);
                }
                assertEquals(2.0 * s, d.getDouble(o, i), 1e-12);
            }
        }
    }

    @Test
    void gradientsAreZeroSameShapeAndAllocatedOnce() {
        LoraWeights w = LoraWeights.init(Q, 6, 4, cfg(2, LoraInit.RANDOM), 0, DataType.FLOAT);
        assertNull(w.gradA());
        assertNull(w.gradB());
        w.allocateGradients();
        INDArray ga = w.gradA();
        assertArrayEquals(w.a().shape(), ga.shape());
        assertArrayEquals(w.b().shape(), w.gradB().shape());
        assertEquals(0, maxAbs(values(ga)), 0);
        ga.addi(1);
        w.allocateGradients();
        assertSame(ga, w.gradA());
        assertEquals(1.0, w.gradA().getDouble(0, 0), 0);
    }

    @Test
    void keysArePeftKeys() {
        LoraWeights w = new LoraWeights(Q, Nd4j.zeros(DataType.FLOAT, 2, 6), Nd4j.zeros(DataType.FLOAT, 4, 2), 1);
        assertEquals("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", w.keyA());
        assertEquals("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", w.keyB());
        assertEquals(2, w.r());
        assertEquals(6, w.inFeatures());
        assertEquals(4, w.outFeatures());
    }
}
