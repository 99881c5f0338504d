package org.lora4j.inference.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.Generator;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Incremental decoding with the KV cache must give the logits of a full forward over the same tokens. */
class KvCacheEquivalenceTest {
    @TempDir
    Path tmp;

    private Decoder tiny(Architecture arch) {
        // a short sliding window for Mistral so that the cache path crosses it
        TinyModelGenerator.write(tmp, arch, new TinyModelGenerator.Size(32, 2, 4, 2, 64, 300, 64), 3, DType.F32);
        return new Decoder(WeightLoader.load(tmp, DataType.FLOAT));
    }

    private static int[] randomIds(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(vocab);
        }
        return ids;
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void incrementalDecodeEqualsFullForward(Architecture arch) {
        Decoder d = tiny(arch);
        int n = 24;
        int[] ids = randomIds(n, d.config().vocabSize(), 11);
        float[][] full = d.forward(new int[][] {ids}).toFloatMatrix(); // [T, V]

        KvCache cache = new KvCache(d.config(), 1, n, DataType.FLOAT);
        int prefill = 5;
        int[] pos = new int[prefill];
        for (int i = 0; i < prefill; i++) {
            pos[i] = i;
        }
        int[] first = java.util.Arrays.copyOf(ids, prefill);
        float[][] got = d.logits(d.hidden(new int[][] {first}, new int[][] {pos}, AttentionMask.causal(), cache))
                .toFloatMatrix();
        double maxErr = 0;
        for (int i = 0; i < prefill; i++) {
            maxErr = Math.max(maxErr, maxAbsDiff(full[i], got[i]));
        }
        for (int i = prefill; i < n; i++) {
            INDArray h = d.hidden(new int[][] {{ids[i]}}, new int[][] {{i}}, AttentionMask.causal(), cache);
            maxErr = Math.max(maxErr, maxAbsDiff(full[i], d.logits(h).toFloatMatrix()[0]));
        }
        assertEquals(n, cache.length());
        assertTrue(maxErr < 1e-5, arch + ": max |incremental - full| = " + maxErr);
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void batchedLeftPaddedGenerationEqualsOneByOne(Architecture arch) {
        Decoder d = tiny(arch);
        int v = d.config().vocabSize();
        List<int[]> prompts = List.of(randomIds(3, v, 1), randomIds(9, v, 2), randomIds(6, v, 3));
        Generator g = new Generator(d);
        GenerationConfig greedy = GenerationConfig.greedy(10);
        GenerationConfig sampled = new GenerationConfig(10, 0.9, 20, 0.9, 1.2, 5, List.of(), new int[0]);
        for (GenerationConfig cfg : List.of(greedy, sampled)) {
            List<Generation> batched = g.generate(prompts, cfg, null, null);
            for (int b = 0; b < prompts.size(); b++) {
                int[] alone = g.generate(List.of(prompts.get(b)), cfg, null, null).get(0).tokenIds();
                assertArrayEquals(alone, batched.get(b).tokenIds(), arch + " row " + b);
            }
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
