package org.lora4j.trainer.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * One benchmark run, in one process: write (or reuse) a random HF checkpoint per shape, measure the machine's
 * limits, then per shape LoRA training (throughput, MFU, memory), batch-1 decode and prefill.
 */
public final class Benchmark {

    /**
     * @param modelDir    where the random checkpoints go ({@code <dir>/<shape>}, reused when config.json matches);
     *                    null = a temporary folder deleted at the end
     * @param command     the command line, recorded in the report
     * @param decodeOnly  measure the machine limits and decode only (no training, no prefill)
     * @param decodeDtype the weights' dtype in the decode measurement (FLOAT or BFLOAT16)
     * @param decodeBatch rows decoded together
     */
    public record Options(List<BenchShape> shapes, int warmup, int steps, int decodePrompt, int decodeTokens,
                          int gemmReps, long bandwidthBytes, boolean profile, Path modelDir, String command,
                          boolean decodeOnly, DataType decodeDtype, int decodeBatch) {

        /** Everything, batch-1 FP32 decode. */
        public Options(List<BenchShape> shapes, int warmup, int steps, int decodePrompt, int decodeTokens,
                       int gemmReps, long bandwidthBytes, boolean profile, Path modelDir, String command) {
            this(shapes, warmup, steps, decodePrompt, decodeTokens, gemmReps, bandwidthBytes, profile, modelDir,
                    command, false, DataType.FLOAT, 1);
        }
    }

    /**
     * Everything measured for one shape ({@code training}, {@code trainingPeak} and {@code prefill} are null in a
     * decode-only run). {@code rssAtStart} is the process before any model was loaded (JVM, ND4J
     * and BLAS libraries); {@code rssBeforeLoad} is just before this shape's model was loaded, which also holds
     * whatever earlier phases left resident (freed native memory the allocator has not returned).
     */
    public record ShapeResult(BenchShape shape, long rssAtStart, long rssBeforeLoad, MemoryProbe.Peak trainingPeak,
                              TrainingBench.Result training, DecodeBench.Result decode, PrefillBench.Result prefill) {

        /**
         * Peak training memory as the budget counts it: peak RSS − RSS of the process before any model was loaded.
         * Leftovers of an earlier shape count against this one: the conservative reading.
         */
        public long measuredTrainingBytes() {
            return trainingPeak.rss() - rssAtStart;
        }
    }

    public record Report(MachineInfo machine, String loadAverageAtEnd, MachineLimits.Result limits,
                         List<ShapeResult> shapes, String command, int warmup) {
    }

    private Benchmark() {
    }

    public static Report run(Options o, PrintStream log) {
        Path tmp = null;
        try {
            Path root = o.modelDir();
            if (root == null) {
                tmp = Files.createTempDirectory("lora4j-bench");
                root = tmp;
            }
            List<Path> dirs = new ArrayList<>();
            for (BenchShape s : o.shapes()) {
                dirs.add(ensureModel(root.resolve(s.name()), s, log));
            }
            MachineInfo machine = MachineInfo.probe();                     // also loads ND4J and OpenBLAS
            settle();
            long rssAtStart = MemoryProbe.rss();
            log.printf(Locale.ROOT, "machine: %s, %d logical CPUs, %s; BLAS %s with %d threads; OMP_WAIT_POLICY=%s;"
                            + " load average %s%n", machine.cpuModel(), machine.logicalCpus(), machine.jdk(),
                    machine.blasVendor(), machine.blasThreads(), machine.ompWaitPolicy(), machine.loadAverage());
            log.println("machine limits: sgemm and read bandwidth ...");
            int threads = Math.max(machine.blasThreads(), 1);
            List<MachineLimits.GemmShape> gemmShapes = MachineLimits.shapes(o.shapes());
            MachineLimits.Result limits = MachineLimits.measure(gemmShapes, threads, o.gemmReps(), o.bandwidthBytes());
            log.printf(Locale.ROOT, "  sgemm peak %.1f GFLOP/s (%s, %d threads); read bandwidth %.1f GB/s%n",
                    limits.peakGflops(), limits.peakShape().label(), threads, limits.readBytesPerSecond() / 1e9);
            List<ShapeResult> results = new ArrayList<>();
            for (int i = 0; i < o.shapes().size(); i++) {
                results.add(runShape(o.shapes().get(i), dirs.get(i), o, limits, rssAtStart, log));
            }
            settle();
            log.println("machine limits again, at the end of the run ...");
            limits = limits.merge(MachineLimits.measure(gemmShapes, threads, o.gemmReps(), o.bandwidthBytes()));
            log.printf(Locale.ROOT, "  sgemm peak %.1f GFLOP/s (%s, %d threads); read bandwidth %.1f GB/s%n",
                    limits.peakGflops(), limits.peakShape().label(), threads, limits.readBytesPerSecond() / 1e9);
            return new Report(machine, MachineInfo.loadAverageNow(), limits, results, o.command(), o.warmup());
        } catch (IOException e) {
            throw new UncheckedIOException("benchmark: could not create a temporary model folder", e);
        } finally {
            if (tmp != null) {
                deleteTree(tmp);
            }
        }
    }

    private static ShapeResult runShape(BenchShape shape, Path dir, Options o, MachineLimits.Result limits,
                                        long rssAtStart, PrintStream log) {
        log.println(shape.name() + ": " + shape.describe());
        settle();
        long before = MemoryProbe.rss();
        if (o.decodeOnly()) {
            LanguageModel lm = LanguageModel.load(dir, o.decodeDtype());
            DecodeBench.Result decode = DecodeBench.run(lm.decoder(), FlopCount.of(shape.config(), 0),
                    o.decodePrompt(), o.decodeTokens(), o.decodeBatch(), o.warmup() > 0 ? 1 : 0,
                    Math.max(1, Math.min(o.steps(), 3)), log);
            lm.close();
            return new ShapeResult(shape, rssAtStart, before, null, null, decode, null);
        }
        MemoryProbe probe = MemoryProbe.start(5);
        LanguageModel lm = LanguageModel.load(dir);
        TrainingBench.Result train = TrainingBench.run(shape, lm.decoder(), lm.linearShapes(), o.warmup(),
                o.steps(), o.profile(), log);
        MemoryProbe.Peak peak = probe.stop();
        log.printf(Locale.ROOT, "  %s training: %.0f tokens/s median, MFU %.1f%% of the sgemm peak so far, peak RSS"
                        + " %.0f MiB%n", shape.name(),
                train.tokensPerSecond().median(), 100 * train.mfu(limits.peakGflops()), peak.rss() / 1048576.0);
        LanguageModel decodeLm = o.decodeDtype() == lm.decoder().weights().dataType() ? lm
                : LanguageModel.load(dir, o.decodeDtype());
        DecodeBench.Result decode = DecodeBench.run(decodeLm.decoder(), train.flops(), o.decodePrompt(),
                o.decodeTokens(), o.decodeBatch(), o.warmup() > 0 ? 1 : 0, Math.max(1, Math.min(o.steps(), 3)), log);
        if (decodeLm != lm) {
            decodeLm.close();
        }
        PrefillBench.Result prefill = PrefillBench.run(lm.decoder(), train.flops(), shape.seq(), o.warmup(),
                o.steps(), log);
        lm.close();
        return new ShapeResult(shape, rssAtStart, before, peak, train, decode, prefill);
    }

    /** Writes the shape's random FP32 checkpoint into {@code dir} unless one with the same config.json is there. */
    static Path ensureModel(Path dir, BenchShape s, PrintStream log) {
        if (Files.isRegularFile(dir.resolve("model.safetensors")) && Files.isRegularFile(dir.resolve("config.json"))) {
            try {
                ModelConfig have = ModelConfig.load(dir);
                if (have.toJson().equals(s.config().toJson())) {
                    log.println("reusing " + dir);
                    return dir;
                }
            } catch (RuntimeException e) {
                // not a usable model folder: write a fresh one
            }
        }
        long t0 = System.nanoTime();
        TinyModelGenerator.writeModel(dir, s.config(), 1234, DType.F32);
        log.printf(Locale.ROOT, "wrote the random %s checkpoint to %s (%.1f s)%n", s.name(), dir,
                (System.nanoTime() - t0) / 1e9);
        return dir;
    }

    /** Lets garbage (and the native memory ND4J frees when its wrappers are collected) go before a measurement. */
    static void settle() {
        for (int i = 0; i < 2; i++) {
            System.gc();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a temp folder left behind is harmless
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
