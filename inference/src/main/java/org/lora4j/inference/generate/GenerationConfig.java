package org.lora4j.inference.generate;

import java.util.List;

/**
 * What to generate and how to pick tokens, with HF {@code generate} semantics.
 *
 * @param maxNewTokens      stop after this many new tokens ({@code finish_reason = length})
 * @param temperature       0 = greedy (argmax); otherwise logits are divided by it before sampling
 * @param topK              keep the k most likely tokens (0 = off)
 * @param topP              nucleus: keep the smallest set whose probability reaches top_p (1 = off)
 * @param repetitionPenalty HF CTRL penalty over prompt and generated tokens (1 = off)
 * @param seed              seeds each row's own random stream, so a row samples the same alone or batched
 * @param stopStrings       generation ends when the text contains one; the text is cut before it
 * @param eosTokenIds       generation ends on any of these ids
 */
public record GenerationConfig(int maxNewTokens, double temperature, int topK, double topP,
                               double repetitionPenalty, long seed, List<String> stopStrings, int[] eosTokenIds) {

    public GenerationConfig {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens must be >= 0, found " + maxNewTokens);
        }
        if (temperature < 0 || Double.isNaN(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0 (0 = greedy), found " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0 (0 = off), found " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], found " + topP);
        }
        if (!(repetitionPenalty > 0)) {
            throw new IllegalArgumentException("repetition penalty must be > 0 (1 = off), found " + repetitionPenalty);
        }
        stopStrings = List.copyOf(stopStrings);
        eosTokenIds = eosTokenIds.clone();
    }

    public static GenerationConfig greedy(int maxNewTokens, int... eosTokenIds) {
        return new GenerationConfig(maxNewTokens, 0, 0, 1, 1, 0, List.of(), eosTokenIds);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    @Override
    public int[] eosTokenIds() {
        return eosTokenIds.clone();
    }

    public boolean isEos(int id) {
        for (int e : eosTokenIds) {
            if (e == id) {
                return true;
            }
        }
        return false;
    }
}
