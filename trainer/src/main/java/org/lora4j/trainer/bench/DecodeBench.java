package org.lora4j.trainer.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.lora4j.inference.decode.FastDecode;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.Generator;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;

/**
 * Decode with the KV cache through the project's {@link Generator} (greedy, no eos so every run produces its full
 * length), batch 1 by default, with the model's weights in FP32 or BF16. The time of one step is the interval
 * between the first row's successive tokens handed to the listener: one single-token forward of every row, lm_head
 * and the argmax. Compared with the memory-bandwidth bound (bytes every step must read,
 * {@link FlopCount#decodeBytesPerStep}, over the measured read bandwidth). Generator takes the Vector API decode step
 * when the JVM has {@code jdk.incubator.vector} ({@link FastDecode}); the log names the path measured.
 */
public final class DecodeBench {

    /**
     * Seconds per step of {@code batch} rows (one token each) over every interval of the measured runs; bytes (per
     * step) and FLOPs (per token) are at the mean context. {@code path} names the decode step measured.
     */
    public record Result(int promptTokens, int newTokens, Samples secondsPerStep, long bytesPerStep,
                         long flopsPerToken, int batch, String dtype, String path) {

        /** Tokens/s of the whole batch ({@code batch} tokens per step). */
        public Samples tokensPerSecond() {
            return secondsPerStep.rates(batch);
        }

        /** The bandwidth bound: tokens/s if every step only had to read its bytes at {@code readBytesPerSecond}. */
        public double boundTokensPerSecond(double readBytesPerSecond) {
            return batch * readBytesPerSecond / bytesPerStep;
        }

        /** Median decode rate as a fraction of the bandwidth bound. */
        public double fractionOfBound(double readBytesPerSecond) {
            return tokensPerSecond().median() / boundTokensPerSecond(readBytesPerSecond);
        }

        /** Bytes read per second at the median rate, if every step read its {@link #bytesPerStep}. */
        public double effectiveBytesPerSecond() {
            return tokensPerSecond().median() / batch * bytesPerStep;
        }
    }

    private DecodeBench() {
    }

    public static Result run(Decoder decoder, FlopCount flops, int promptTokens, int newTokens, int warmupRuns,
                             int runs, PrintStream log) {
        return run(decoder, flops, promptTokens, newTokens, 1, warmupRuns, runs, log);
    }

    /** {@code batch} rows with the same prompt length (no padding), every row decoding {@code newTokens}. */
    public static Result run(Decoder decoder, FlopCount flops, int promptTokens, int newTokens, int batch,
                             int warmupRuns, int runs, PrintStream log) {
        Random rng = new Random(11);
        List<int[]> prompts = List.of(TrainingBench.randomIds(rng, batch, promptTokens,
                decoder.config().vocabSize()));
        Generator gen = new Generator(decoder);
        GenerationConfig cfg = GenerationConfig.greedy(newTokens);
        String why = FastDecode.unsupportedReason(decoder, ForwardContext.BASE, batch);
        String path = why == null ? "Vector API decode step" : "ND4J op-by-op (" + why + ")";
        String dtype = decoder.weights().dataType().toString();
        log.printf(Locale.ROOT, "  decode: batch %d, %s weights, %s%n", batch, dtype, path);
        List<Double> intervals = new ArrayList<>();
        for (int r = 0; r < warmupRuns + runs; r++) {
            boolean measured = r >= warmupRuns;
            long[] last = {0};
            List<Double> run = new ArrayList<>();
            gen.generate(prompts, cfg, null, (row, tok) -> {
                if (row != 0) {
                    return;
                }
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
            log.printf(Locale.ROOT, "  decode %s %d/%d: %d steps, median %.1f ms/step (%.2f tokens/s)%n",
                    measured ? "run" : "warm-up", measured ? r - warmupRuns + 1 : r + 1, measured ? runs : warmupRuns,
                    run.size() + 1, median * 1e3, batch / median);
            if (measured) {
                intervals.addAll(run);
            }
        }
        int meanContext = promptTokens + newTokens / 2;
        long bytes = flops.decodeBytesPerStep(meanContext, batch, (int) decoder.weights().dataType().width());
        return new Result(promptTokens, newTokens, Samples.of(intervals), bytes, flops.decodePerToken(meanContext),
                batch, dtype, path);
    }
}
