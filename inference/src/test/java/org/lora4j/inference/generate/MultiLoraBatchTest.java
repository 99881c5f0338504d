package org.lora4j.inference.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.LoraInit;
import org.lora4j.adapters.lora.LoraWeights;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.model.AttentionMask;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.Linear;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Multi-LoRA batching: one batch whose rows use different adapters (or none) over the shared base gives, row by row,
 * what each row gives alone with its own adapter — logits within 1e-5, generated tokens identical (greedy and seeded
 * sampling). The adapters have random, non-zero B and differ in their target modules (alpha also adapts lm_head),
 * and each is shown to change the logits, so that a per-row context that dropped or mixed adapters would fail.
 */
class MultiLoraBatchTest {
    @TempDir
    static Path tmp;

    static LanguageModel lm;
    static LoraAdapter alpha;
    static LoraAdapter beta;

    @BeforeAll
    static void setUp() {
        TinyModelGenerator.write(tmp, Architecture.LLAMA, TinyModelGenerator.Size.TINY, 21, DType.F32);
        lm = LanguageModel.load(tmp);
        alpha = LoraAdapter.init(LoraConfig.of(4, 8, TargetModules.Names.of("q_proj", "v_proj", "o_proj", "down_proj",
                "lm_head")).withInit(LoraInit.RANDOM), lm.linearShapes(), 31, DataType.FLOAT);
        beta = LoraAdapter.init(LoraConfig.of(2, 16, TargetModules.Names.of("k_proj", "gate_proj", "up_proj"))
                .withInit(LoraInit.RANDOM), lm.linearShapes(), 32, DataType.FLOAT);
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    /** Row adapters of the batches below: a null entry is the plain base. */
    private static List<Function<String, LoraWeights>> rowAdapters(LoraAdapter... rows) {
        List<Function<String, LoraWeights>> out = new ArrayList<>();
        for (LoraAdapter a : rows) {
            out.add(a == null ? null : a::get);
        }
        return out;
    }

    private static ForwardContext alone(LoraAdapter a) {
        return a == null ? ForwardContext.BASE : ForwardContext.withAdapter(a::get);
    }

    /** Full causal forward of ids {@code [B][T]} → logits {@code [B·T][V]}. */
    private static float[][] logits(int[][] ids, ForwardContext ctx) {
        Decoder d = lm.decoder();
        int[][] pos = new int[ids.length][ids[0].length];
        for (int[] p : pos) {
            Arrays.setAll(p, i -> i);
        }
        INDArray hidden = d.hidden(ids, pos, AttentionMask.causal(), null, ctx);      // [B·T, H]
        return d.lmHead().forward(hidden, ctx).y().toFloatMatrix();
    }

    private static int[] randomIds(int n, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[n];
        Arrays.setAll(ids, i -> r.nextInt(lm.config().vocabSize()));
        return ids;
    }

    private static double maxAbsDiff(float[][] a, int fromA, float[][] b, int rows) {
        double m = 0;
        for (int i = 0; i < rows; i++) {
            for (int v = 0; v < b[i].length; v++) {
                m = Math.max(m, Math.abs(a[fromA + i][v] - b[i][v]));
            }
        }
        return m;
    }

    @Test
    void perRowForwardEqualsEachRowAloneWithItsAdapter() {
        int t = 7;
        LoraAdapter[] adapters = {alpha, alpha, null, beta, alpha}; // groups of 2, 1, 1, 1 consecutive rows
        int[][] ids = new int[adapters.length][];
        for (int b = 0; b < ids.length; b++) {
            ids[b] = randomIds(t, 100 + b);
        }
        float[][] batched = logits(ids, ForwardContext.perRow(rowAdapters(adapters)));  // [B·T][V]
        for (int b = 0; b < ids.length; b++) {
            float[][] single = logits(new int[][] {ids[b]}, alone(adapters[b]));
            double err = maxAbsDiff(batched, b * t, single, t);
            assertTrue(err < 1e-5, "row " + b + ": max |batched - alone| = " + err);
        }
        // not vacuous: each adapter moves the logits away from the base, and the two differently
        float[][] base = logits(new int[][] {ids[0]}, ForwardContext.BASE);
        float[][] withAlpha = logits(new int[][] {ids[0]}, alone(alpha));
        float[][] withBeta = logits(new int[][] {ids[0]}, alone(beta));
        assertTrue(maxAbsDiff(withAlpha, 0, base, t) > 1e-3, "alpha changes the logits");
        assertTrue(maxAbsDiff(withBeta, 0, base, t) > 1e-3, "beta changes the logits");
        assertTrue(maxAbsDiff(withAlpha, 0, withBeta, t) > 1e-3, "alpha and beta differ");
    }

    @Test
    void oneAdapterInEveryRowEqualsTheUniformContext() {
        int[][] ids = {randomIds(5, 1), randomIds(5, 2), randomIds(5, 3)};
        float[][] perRow = logits(ids, ForwardContext.perRow(rowAdapters(beta, beta, beta)));
        float[][] uniform = logits(ids, alone(beta));
        assertEquals(0.0, maxAbsDiff(perRow, 0, uniform, uniform.length), 1e-6);
    }

    @Test
    void mixedBatchGenerationEqualsSequentialGenerationPerRow() {
        int[] eos = new int[0];
        List<Generator.Request> rows = List.of(
                new Generator.Request(randomIds(3, 7), GenerationConfig.greedy(10)),
                new Generator.Request(randomIds(9, 8), new GenerationConfig(12, 0.9, 20, 0.9, 1.1, 42, List.of(), eos)),
                new Generator.Request(randomIds(5, 9), GenerationConfig.greedy(6)),
                new Generator.Request(randomIds(6, 10), new GenerationConfig(9, 1.0, 0, 1, 1, 7, List.of(), eos)),
                new Generator.Request(randomIds(4, 11), new GenerationConfig(11, 0.8, 0, 0.95, 1, 3, List.of(), eos)));
        LoraAdapter[] adapters = {alpha, null, beta, alpha, beta};
        List<Generation> batched = new Generator(lm.decoder(), ForwardContext.perRow(rowAdapters(adapters)))
                .generate(rows, null, null);
        int differFromBase = 0;
        for (int b = 0; b < rows.size(); b++) {
            Generation single = new Generator(lm.decoder(), alone(adapters[b])).generate(List.of(rows.get(b)), null,
                    null).get(0);
            assertArrayEquals(single.tokenIds(), batched.get(b).tokenIds(), "row " + b);
            assertEquals(single.finishReason(), batched.get(b).finishReason(), "row " + b);
            Generation base = new Generator(lm.decoder()).generate(List.of(rows.get(b)), null, null).get(0);
            differFromBase += adapters[b] != null && !Arrays.equals(base.tokenIds(), single.tokenIds()) ? 1 : 0;
        }
        assertTrue(differFromBase > 0, "at least one adapted row generates other tokens than the base");
    }

    @Test
    void aPerRowContextMustMatchTheBatchAndNeverReachesBackward() {
        ForwardContext two = ForwardContext.perRow(rowAdapters(alpha, null));
        List<Generator.Request> three = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            three.add(new Generator.Request(randomIds(3, i), GenerationConfig.greedy(2)));
        }
        IllegalArgumentException wrongSize = assertThrows(IllegalArgumentException.class,
                () -> new Generator(lm.decoder(), two).generate(three, null, null));
        assertTrue(wrongSize.getMessage().contains("2 rows but 3 requests"), wrongSize.getMessage());

        Linear q = lm.decoder().weights().layers().get(0).qProj();
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, q.inFeatures());                   // B = 2 rows of 2 tokens
        Linear.Out out = q.forward(x, two);
        IllegalStateException backward = assertThrows(IllegalStateException.class,
                () -> q.backward(Nd4j.onesLike(out.y()), out.cache(), two));
        assertTrue(backward.getMessage().contains("inference only"), backward.getMessage());
        assertEquals(alpha.get(q.name()), two.loraOf(q.name(), 0));
        assertEquals(null, two.loraOf(q.name(), 1));
    }
}
