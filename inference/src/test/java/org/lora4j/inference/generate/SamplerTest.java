package org.lora4j.inference.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final float[] LOGITS = {1.0f, 3.0f, 2.5f, -1.0f, 0.0f};

    private static GenerationConfig cfg(double temp, int topK, double topP, double rep, long seed) {
        return new GenerationConfig(8, temp, topK, topP, rep, seed, List.of(), new int[0]);
    }

    @Test
    void greedyTakesArgmax() {
        assertEquals(1, new Sampler(cfg(0, 0, 1, 1, 0)).next(LOGITS, new BitSet()));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        BitSet seen = new BitSet();
        seen.set(1); // 3.0 / 1.5 = 2.0 < 2.5
        assertEquals(2, new Sampler(cfg(0, 0, 1, 1.5, 0)).next(LOGITS, seen));
    }

    @Test
    void topKOfOneAndTinyTopPAreGreedy() {
        for (long seed = 0; seed < 20; seed++) {
            assertEquals(1, new Sampler(cfg(1.0, 1, 1, 1, seed)).next(LOGITS, new BitSet()));
            assertEquals(1, new Sampler(cfg(1.0, 0, 0.05, 1, seed)).next(LOGITS, new BitSet()));
        }
    }

    @Test
    void topPKeepsTheSmallestNucleus() {
        double[] p = {0.5, 0.3, 0.15, 0.05};
        Sampler.topP(p, 0.75); // cumulative ascending: .05, .20 (both <= .25: dropped), .50 kept
        assertEquals(0.0, p[3]);
        assertEquals(0.0, p[2]);
        assertEquals(0.5 / 0.8, p[0], 1e-12);
    }

    @Test
    void samplingFollowsTheSoftmaxAndIsSeeded() {
        int[] counts = new int[LOGITS.length];
        Sampler s = new Sampler(cfg(1.0, 0, 1, 1, 42));
        int n = 20000;
        for (int i = 0; i < n; i++) {
            counts[s.next(LOGITS, new BitSet())]++;
        }
        double[] p = Sampler.softmax(new double[] {1.0, 3.0, 2.5, -1.0, 0.0});
        for (int i = 0; i < p.length; i++) {
            assertEquals(p[i], counts[i] / (double) n, 0.015, "token " + i);
        }
        int[] a = new int[50];
        int[] b = new int[50];
        int[] c = new int[50];
        Sampler s1 = new Sampler(cfg(1.0, 0, 1, 1, 7));
        Sampler s2 = new Sampler(cfg(1.0, 0, 1, 1, 7));
        Sampler s3 = new Sampler(cfg(1.0, 0, 1, 1, 8));
        for (int i = 0; i < 50; i++) {
            a[i] = s1.next(LOGITS, new BitSet());
            b[i] = s2.next(LOGITS, new BitSet());
            c[i] = s3.next(LOGITS, new BitSet());
        }
        assertTrue(java.util.Arrays.equals(a, b));
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c));
    }
}
