package org.lora4j.trainer.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.Generator;
import org.lora4j.inference.model.Decoder;

/**
 * Batch-1 FP32 decode with the KV cache, through the project's {@link Generator} (greedy, no eos so every run
 * produces its full length). The time of one token is the interval between two successive tokens handed to the
 * listener: one single-token forward, lm_head and the argmax. Compared with the memory-bandwidth bound
 * (bytes every token must read, {@link FlopCount#decodeBytesPerToken}, over the measured read bandwidth).
 */
public final class DecodeBench {

    /** Seconds per token over every interval of the measured runs; bytes and FLOPs are at the mean context. */
    public record Result(int promptTokens, int newTokens, Samples secondsPerToken, long bytesPerToken,
                         long flopsPerToken) {

        public Samples tokensPerSecond() {
            return secondsPerToken.rates(1.0);
        }

        /** The bandwidth bound: tokens/s if every token only had to read its bytes at {@code readBytesPerSecond}. */
        public double boundTokensPerSecond(double readBytesPerSecond) {
            return readBytesPerSecond / bytesPerToken;
        }

        /** Median decode rate as a fraction of the bandwidth bound. */
        public double fractionOfBound(double readBytesPerSecond) {
            return tokensPerSecond().median() / boundTokensPerSecond(readBytesPerSecond);
        }

        /** Bytes read per second at the median rate, if every token read its {@link #bytesPerToken}. */
        public double effectiveBytesPerSecond() {
            return tokensPerSecond().median() * bytesPerToken;
        }
    }

    private DecodeBench() {
    }

    public static Result run(Decoder decoder, FlopCount flops, int promptTokens, int newTokens, int warmupRuns,
                             int runs, PrintStream log) {
        Random rng = new Random(11);
        int[] prompt = TrainingBench.randomIds(rng, 1, promptTokens, decoder.config().vocabSize())[0];
        Generator gen = new Generator(decoder);
        GenerationConfig cfg = GenerationConfig.greedy(newTokens);
        List<Double> intervals = new ArrayList<>();
        for (int r = 0; r < warmupRuns + runs; r++) {
            boolean measured = r >= warmupRuns;
            long[] last = {0};
            List<Double> run = new ArrayList<>();
            gen.generate(List.of(prompt), cfg, null, (row, tok) -> {
                long now = System.nanoTime();
                if (last[0] != 0) {
                    run.add((now - last[0]) / 1e9);
                }
                last[0] = now;
            });
            if (run.isEmpty()) {
                throw new IllegalArgumentException("decode benchmark needs at least 2 new tokens, got " + newTokens);
            }
            double median = Samples.of(run).median();
            log.printf(Locale.ROOT, "  decode %s %d/%d: %d tokens, median %.1f ms/token (%.2f tokens/s)%n",
                    measured ? "run" : "warm-up", measured ? r - warmupRuns + 1 : r + 1, measured ? runs : warmupRuns,
                    run.size() + 1, median * 1e3, 1 / median);
            if (measured) {
                intervals.addAll(run);
            }
        }
        int meanContext = promptTokens + newTokens / 2;
        long bytes = flops.decodeBytesPerToken(meanContext, 4);
        return new Result(promptTokens, newTokens, Samples.of(intervals), bytes, flops.decodePerToken(meanContext));
    }
}
