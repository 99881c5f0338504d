package org.lora4j.trainer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.nd4j.linalg.api.buffer.DataType;

/** The benchmark harness's arithmetic and report plumbing. Nothing here is timed: speeds belong in BENCHMARKS.md. */
class BenchHarnessTest {
    @TempDir
    Path tmp;

    /** hidden 8, 2 layers, 2 heads / 1 KV head of dim 4, ffn 12, vocab 10, untied. */
    static ModelConfig tiny() {
        return BenchShape.llama(10, 8, 12, 2, 2, 1, 10000.0, 64, false);
    }

    @Test
    void flopCountsOfATinyConfigByHand() {
        ModelConfig c = tiny();
        // per layer q 8·8 + k 8·4 + v 8·4 + o 8·8 + gate, up, down 3·8·12 = 480; 2 layers + lm_head 10·8
        long lora = FlopCount.loraParamsAllLinear(c, 2);
        // r·(in+out): q 2·16 + k 2·12 + v 2·12 + o 2·16 + gate, up, down 3·2·20 = 232 per layer
        assertEquals(464, lora);
        FlopCount f = FlopCount.of(c, lora);
        assertEquals(1040, f.frozenMatmulParams());
        assertEquals(40, f.normParams());
        // 4·1040 + 6·464 + 12·L·T·d = 12·2·16·8
        assertEquals(4160 + 2784 + 3072, f.trainingPerToken(16));
        assertEquals(2080 + 4 * 2 * 16 * 8, f.prefillPerToken(16));
        assertEquals(2080 + 4 * 2 * 5 * 8, f.decodePerToken(5));
        // (N + norms + one embedding row + KV 2·L·kv_dim·S) · 4 bytes
        assertEquals((1040 + 40 + 8 + 2 * 2 * 4 * 5) * 4, f.decodeBytesPerToken(5, 4));
    }

    @Test
    void countsAgreeWithARealCheckpointAndAdapter() {
        ModelConfig c = tiny();
        TinyModelGenerator.writeModel(tmp.resolve("m"), c, 3, DType.F32);
        try (LanguageModel lm = LanguageModel.load(tmp.resolve("m"))) {
            Map<String, int[]> shapes = lm.linearShapes();
            long n = shapes.values().stream().mapToLong(s -> (long) s[0] * s[1]).sum();
            assertEquals(n, FlopCount.of(c, 0).frozenMatmulParams());
            LoraAdapter a = LoraAdapter.init(LoraConfig.of(2, 4, new TargetModules.AllLinear()), shapes, 1,
                    DataType.FLOAT);
            assertEquals(a.trainableParameterCount(), FlopCount.loraParamsAllLinear(c, 2));
            // the weights as the report counts them: every tensor once, 4 bytes each
            assertEquals(lm.decoder().weights().parameterCount() * 4,
                    TrainingBench.weightBytes(lm.decoder().weights()));
        }
    }

    @Test
    void benchShapesAreTheIssuesShapes() {
        ModelConfig s = BenchShape.SMOLLM2.config();
        assertEquals(576, s.hiddenSize());
        assertEquals(64, s.headDim());
        assertTrue(s.tieWordEmbeddings());
        // SmolLM2-135M: 134.5 M matmul parameters (lm_head = the tied 49152 × 576 embedding)
        assertEquals(30L * (576 * 576 * 2 + 2 * 576 * 192 + 3 * 576 * 1536) + 49152L * 576,
                FlopCount.of(s, 0).frozenMatmulParams());
        assertEquals(1024, BenchShape.SMALL.tokensPerStep());
        assertEquals(512, BenchShape.SMOLLM2.tokensPerStep());
    }

    @Test
    void samplesGiveMedianAndSpread() {
        Samples s = new Samples(new double[] {4, 1, 3, 2});
        assertEquals(2.5, s.median());
        assertEquals(1, s.min());
        assertEquals(4, s.max());
        assertEquals(1.2, s.spread(), 1e-12);
        assertEquals(3, new Samples(new double[] {5, 3, 1}).median());
        assertEquals(10, new Samples(new double[] {2}).rates(20).median());
    }

    @Test
    void sectionsAreReplacedInPlaceOrAppended() {
        String doc = "# title\n\nhand-written text\n";
        String once = BenchReport.replaceSection(doc, "small", "numbers 1");
        assertTrue(once.startsWith(doc.strip()));
        assertTrue(once.contains("<!-- BEGIN lora4j-bench:small -->\nnumbers 1\n<!-- END lora4j-bench:small -->"));
        String withTail = once + "\nmore hand-written text\n";
        String twice = BenchReport.replaceSection(withTail, "small", "numbers 2");
        assertTrue(twice.contains("numbers 2") && !twice.contains("numbers 1"));
        assertTrue(twice.endsWith("\nmore hand-written text\n"));
        assertEquals(1, twice.split("BEGIN lora4j-bench:small", -1).length - 1);
    }
}
