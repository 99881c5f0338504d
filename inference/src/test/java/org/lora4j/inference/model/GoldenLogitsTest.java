package org.lora4j.inference.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.Generator;
import org.lora4j.inference.generate.LogProbs;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Logits of the lora4j decoder against an independent numpy implementation of HF transformers' modeling code
 * (scripts/golden/make_golden.py), for every architecture and the config features that change the math.
 */
class GoldenLogitsTest {
    private static final double TOL = 1e-5;

    static Path golden(String name) throws URISyntaxException {
        return Path.of(GoldenLogitsTest.class.getResource("/golden/" + name + "/config.json").toURI()).getParent();
    }

    static JsonNode expected(String name, String file) throws Exception {
        return new ObjectMapper().readTree(golden(name).resolve(file).toFile());
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa_llama3rope", "qwen2_tied_bias", "mistral_window", "llama_linear_bf16"})
    void fullForwardMatchesReference(String name) throws Exception {
        JsonNode exp = expected(name, "expected.json");
        int[][] ids = new ObjectMapper().treeToValue(exp.get("input_ids"), int[][].class);
        Decoder d = new Decoder(WeightLoader.load(golden(name), DataType.FLOAT));
        float[][] logits = d.forward(ids).toFloatMatrix(); // [B·T, V]
        int t = ids[0].length;
        double maxErr = 0;
        for (int b = 0; b < ids.length; b++) {
            for (int i = 0; i < t; i++) {
                JsonNode row = exp.get("logits").get(b).get(i);
                for (int v = 0; v < row.size(); v++) {
                    maxErr = Math.max(maxErr, Math.abs(logits[b * t + i][v] - row.get(v).asDouble()));
                }
            }
        }
        assertTrue(maxErr < TOL, name + ": max |logit - reference| = " + maxErr);
    }

    @Test
    void llama3RopeFrequenciesMatchReference() throws Exception {
        JsonNode exp = expected("llama_gqa_llama3rope", "expected.json");
        float[] invFreq = new RotaryEmbedding(ModelConfig.load(golden("llama_gqa_llama3rope"))).invFreq();
        assertEquals(exp.get("rope_inv_freq").size(), invFreq.length);
        for (int j = 0; j < invFreq.length; j++) {
            double ref = exp.get("rope_inv_freq").get(j).asDouble();
            assertEquals(ref, invFreq[j], Math.abs(ref) * 1e-6, "inv_freq[" + j + "]");
        }
    }

    @Test
    void logProbsMatchReference() throws Exception {
        JsonNode exp = expected("llama_gqa_llama3rope", "expected.json");
        int[][] ids = new ObjectMapper().treeToValue(exp.get("input_ids"), int[][].class);
        Decoder d = new Decoder(WeightLoader.load(golden("llama_gqa_llama3rope"), DataType.FLOAT));
        float[][] lp = LogProbs.logSoftmax(d.forward(new int[][] {ids[0]}).toFloatMatrix());
        for (int i = 0; i < lp.length; i++) {
            JsonNode row = exp.get("next_token_logprobs").get(0).get(i);
            for (int v = 0; v < row.size(); v++) {
                assertEquals(row.get(v).asDouble(), lp[i][v], TOL);
            }
        }
    }

    @Test
    void greedyWithKvCacheMatchesReferenceRecompute() throws Exception {
        JsonNode exp = expected("llama_gqa_llama3rope", "expected_greedy.json");
        int[] prompt = new ObjectMapper().treeToValue(exp.get("prompt_ids"), int[].class);
        int[] want = new ObjectMapper().treeToValue(exp.get("generated_ids"), int[].class);
        Decoder d = new Decoder(WeightLoader.load(golden("llama_gqa_llama3rope"), DataType.FLOAT));
        int[] got = new Generator(d).generate(List.of(prompt), GenerationConfig.greedy(want.length), null, null)
                .get(0).tokenIds();
        assertArrayEquals(want, got);
    }
}
