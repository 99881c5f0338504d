package org.lora4j.inference.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.Generator;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The Vector API decode step against ND4J's op-by-op path, which stays the reference: the same logits (1e-4) at
 * every step for each architecture the golden tests cover, at batch 1 and for a left-padded batch of 3, with and
 * without an unmerged LoRA adapter; and the same greedy tokens through {@link Generator}.
 */
class FastDecodeEquivalenceTest {
    private static final double TOL = 1e-4;

    @TempDir
    Path tmp;

    static Stream<Arguments> cases() {
        return DecodeFixtures.MODELS.stream().flatMap(m -> Stream.of(
                Arguments.of(m, 1, false), Arguments.of(m, 3, false),
                Arguments.of(m, 1, true), Arguments.of(m, 3, true)));
    }

    @ParameterizedTest(name = "{0}, batch {1}, lora {2}")
    @MethodSource("cases")
    void stepLogitsEqualNd4j(String model, int batch, boolean lora) throws Exception {
        assertTrue(FastDecode.vectorApiPresent(), "the test JVM must run with --add-modules jdk.incubator.vector "
                + "(root pom.xml, lora4j.test.jvm)");
        Decoder d = DecodeFixtures.load(model, tmp, DataType.FLOAT);
        ForwardContext ctx = lora ? DecodeFixtures.randomAdapter(d, 3) : ForwardContext.BASE;
        DecodeStep fast = FastDecode.create(d, ctx, batch);
        assertNotNull(fast, () -> "fast step refused: " + FastDecode.unsupportedReason(d, ctx, batch));
        List<int[]> prompts = DecodeFixtures.prompts(batch, d.config().vocabSize());
        double diff = DecodeFixtures.maxStepDifference(d, ctx, prompts, 12, fast);
        assertTrue(diff < TOL, model + " batch " + batch + (lora ? " + LoRA" : "") + ": max |fast − ND4J| = " + diff);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen2_tied_bias", "vector_llama"})
    void rowsSplitAcrossThreadsGiveTheSameLogits(String model) throws Exception {
        Decoder d = DecodeFixtures.load(model, tmp, DataType.FLOAT);
        ForwardContext ctx = DecodeFixtures.randomAdapter(d, 4);
        // pieces of one row: every projection is shared by the pool's threads, as in a full-size model
        DecodeStep fast = new VectorDecodeStep(d, ctx, 3, 1);
        List<int[]> prompts = DecodeFixtures.prompts(3, d.config().vocabSize());
        double diff = DecodeFixtures.maxStepDifference(d, ctx, prompts, 8, fast);
        assertTrue(diff < TOL, model + ": max |fast − ND4J| = " + diff);
    }

    @Test
    void adapterChangesTheLogits() throws Exception {
        Decoder d = DecodeFixtures.load("qwen2_tied_bias", tmp, DataType.FLOAT);
        ForwardContext ctx = DecodeFixtures.randomAdapter(d, 3);
        List<int[]> prompts = DecodeFixtures.prompts(2, d.config().vocabSize());
        // the fast step with the adapter against ND4J without it: must differ, or the LoRA test above is vacuous
        double diff = DecodeFixtures.maxStepDifference(d, ForwardContext.BASE, prompts, 3, FastDecode.create(d, ctx, 2));
        assertTrue(diff > 1e-2, "the adapter moved the logits by only " + diff);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_llama3rope", "qwen2_tied_bias", "mistral_window", "vector_llama"})
    void greedyGenerationGivesTheSameTokens(String model) throws Exception {
        Decoder d = DecodeFixtures.load(model, tmp, DataType.FLOAT);
        for (ForwardContext ctx : List.of(ForwardContext.BASE, DecodeFixtures.randomAdapter(d, 9))) {
            List<int[]> prompts = DecodeFixtures.prompts(3, d.config().vocabSize());
            GenerationConfig greedy = GenerationConfig.greedy(16);
            List<Generation> fast = new Generator(d, ctx).generate(prompts, greedy, null, null);
            List<Generation> reference = withNd4jDecode(() -> new Generator(d, ctx).generate(prompts, greedy, null,
                    null));
            for (int b = 0; b < prompts.size(); b++) {
                assertArrayEquals(reference.get(b).tokenIds(), fast.get(b).tokenIds(), model + " row " + b);
            }
        }
    }

    @Test
    void nd4jModeAndDropoutFallBack() throws Exception {
        Decoder d = DecodeFixtures.load("llama_gqa_llama3rope", tmp, DataType.FLOAT);
        assertEquals(null, FastDecode.unsupportedReason(d, ForwardContext.BASE, 2));
        String forced = withNd4jDecode(() -> FastDecode.unsupportedReason(d, ForwardContext.BASE, 2));
        assertTrue(forced.contains("lora4j.decode=nd4j"), forced);
        Decoder doubles = DecodeFixtures.load("llama_gqa_llama3rope", tmp, DataType.DOUBLE);
        String why = FastDecode.unsupportedReason(doubles, ForwardContext.BASE, 1);
        assertNotEquals(null, why);
        assertTrue(why.contains("DOUBLE"), why);
    }

    static <T> T withNd4jDecode(java.util.function.Supplier<T> body) {
        String before = System.getProperty(FastDecode.MODE_PROPERTY);
        System.setProperty(FastDecode.MODE_PROPERTY, "nd4j");
        try {
            return body.get();
        } finally {
            if (before == null) {
                System.clearProperty(FastDecode.MODE_PROPERTY);
            } else {
                System.setProperty(FastDecode.MODE_PROPERTY, before);
            }
        }
    }
}
