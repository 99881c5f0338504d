package org.lora4j.trainer.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.lora4j.inference.model.AttentionMask;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.KvCache;
import org.lora4j.inference.model.NativeMemory;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Prompt processing (prefill) at batch 1: one forward over a {@code seq}-token prompt that fills a fresh KV cache,
 * then lm_head on the last position — what {@code Generator} does before the first new token.
 */
public final class PrefillBench {

    public record Result(int promptTokens, Samples seconds, long flopsPerToken) {
        public Samples tokensPerSecond() {
            return seconds.rates(promptTokens);
        }

        /** Achieved model FLOPs as a fraction of {@code peakGflops} (the same counting as training MFU). */
        public double mfu(double peakGflops) {
            return tokensPerSecond().median() * flopsPerToken / (peakGflops * 1e9);
        }
    }

    private PrefillBench() {
    }

    public static Result run(Decoder decoder, FlopCount flops, int promptTokens, int warmup, int runs,
                             PrintStream log) {
        var c = decoder.config();
        int[][] ids = TrainingBench.randomIds(new Random(13), 1, promptTokens, c.vocabSize());
        int[][] pos = new int[1][promptTokens];
        for (int i = 0; i < promptTokens; i++) {
            pos[0][i] = i;
        }
        List<Double> secs = new ArrayList<>();
        for (int r = 0; r < warmup + runs; r++) {
            KvCache cache = new KvCache(c, 1, promptTokens + 1, decoder.weights().dataType());  // outside the timing
            long t0 = System.nanoTime();
            INDArray hidden = decoder.hidden(ids, pos, AttentionMask.causal(), cache);          // [T, H]
            decoder.logits(hidden.getRows(promptTokens - 1));                                    // [1, V]
            double s = (System.nanoTime() - t0) / 1e9;
            boolean measured = r >= warmup;
            log.printf(Locale.ROOT, "  prefill %s %d/%d: %d tokens in %.3f s (%.0f tokens/s)%n",
                    measured ? "run" : "warm-up", measured ? r - warmup + 1 : r + 1, measured ? runs : warmup,
                    promptTokens, s, promptTokens / s);
            if (measured) {
                secs.add(s);
            }
            NativeMemory.collectIfGrown();                    // as Generator does after each forward, untimed here
        }
        return new Result(promptTokens, Samples.of(secs), flops.prefillPerToken(promptTokens));
    }
}
