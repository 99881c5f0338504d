package org.lora4j.trainer.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a {@link Benchmark.Report}: a plain-text summary for the console and Markdown sections for
 * BENCHMARKS.md. Each section sits between {@code <!-- BEGIN lora4j-bench:KEY -->} and
 * {@code <!-- END lora4j-bench:KEY -->} markers (keys {@code machine}, {@code small}, {@code smollm2}); an update
 * replaces the sections this run measured and leaves everything else in the file as it was.
 */
public final class BenchReport {
    private static final double MIB = 1024.0 * 1024.0;

    private BenchReport() {
    }

    /** The console summary. */
    public static void print(Benchmark.Report r, PrintStream out) {
        MachineLimits.Result l = r.limits();
        out.println();
        out.printf(Locale.ROOT, "%-40s %s%n", "machine", r.machine().cpuModel() + ", " + r.machine().logicalCpus()
                + " CPUs, " + r.machine().blasThreads() + " BLAS threads");
        out.printf(Locale.ROOT, "%-40s %.1f GFLOP/s (%s)%n", "sgemm peak (MFU denominator)", l.peakGflops(),
                l.peakShape().label());
        out.printf(Locale.ROOT, "%-40s %.1f GB/s%n", "read bandwidth (best pass)", l.readBytesPerSecond() / 1e9);
        for (Benchmark.ShapeResult s : r.shapes()) {
            TrainingBench.Result t = s.training();
            out.println("-- " + s.shape().name() + ": " + s.shape().describe());
            if (t != null) {
                out.printf(Locale.ROOT, "%-40s %s%n", "training tokens/s", samples(t.tokensPerSecond(), 0));
                out.printf(Locale.ROOT, "%-40s %.2f%% of %.1f GFLOP/s%n", "training MFU",
                        100 * t.mfu(l.peakGflops()), l.peakGflops());
                out.printf(Locale.ROOT, "%-40s %.0f MiB (budget %.0f MiB)%n", "training memory (peak RSS − at start)",
                        s.measuredTrainingBytes() / MIB, t.memory().budgetBytes() / MIB);
            }
            DecodeBench.Result d = s.decode();
            out.printf(Locale.ROOT, "%-40s %s (bound %.1f, %.1f%%)%n", "decode tokens/s (batch " + d.batch() + ", "
                            + d.dtype() + ")", samples(d.tokensPerSecond(), 2),
                    d.boundTokensPerSecond(l.readBytesPerSecond()), 100 * d.fractionOfBound(l.readBytesPerSecond()));
            out.printf(Locale.ROOT, "%-40s %s; %.1f MiB per step%n", "decode path", d.path(), d.bytesPerStep() / MIB);
            if (s.prefill() != null) {
                out.printf(Locale.ROOT, "%-40s %s%n", "prefill tokens/s (" + s.prefill().promptTokens()
                        + "-token prompt)", samples(s.prefill().tokensPerSecond(), 0));
            }
        }
    }

    /** The Markdown sections of this report, by key. */
    public static Map<String, String> sections(Benchmark.Report r) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("machine", machineSection(r));
        for (Benchmark.ShapeResult s : r.shapes()) {
            m.put(s.shape().name(), shapeSection(s, r));
        }
        return m;
    }

    /** Replaces (or appends) this report's sections in {@code file}, writing through a temporary file. */
    public static void update(Path file, Benchmark.Report r) {
        try {
            String text = Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8)
                    : "# lora4j benchmarks\n\nMeasured by `scripts/bench` (`lora4j bench`); the sections between the"
                            + " BEGIN/END markers are rewritten by each run.\n";
            for (Map.Entry<String, String> e : sections(r).entrySet()) {
                text = replaceSection(text, e.getKey(), e.getValue());
            }
            Path abs = file.toAbsolutePath();
            Files.createDirectories(abs.getParent());
            Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
            try {
                Files.writeString(tmp, text, StandardCharsets.UTF_8);
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not update " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code text} with the section {@code key} set to {@code body} (appended when its markers are absent). */
    static String replaceSection(String text, String key, String body) {
        String begin = "<!-- BEGIN lora4j-bench:" + key + " -->";
        String end = "<!-- END lora4j-bench:" + key + " -->";
        String block = begin + "\n" + body.strip() + "\n" + end;
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b >= 0 && e > b) {
            return text.substring(0, b) + block + text.substring(e + end.length());
        }
        return text.stripTrailing() + "\n\n" + block + "\n";
    }

    static String machineSection(Benchmark.Report r) {
        MachineInfo m = r.machine();
        MachineLimits.Result l = r.limits();
        StringBuilder sb = new StringBuilder();
        sb.append("### Machine and its limits\n\n");
        sb.append(String.format(Locale.ROOT, "Measured %s by `%s`.%n%n", m.date(), r.command()));
        sb.append("| | |\n|---|---|\n");
        row(sb, "CPU", m.cpuModel() + " (" + m.simd() + ")");
        row(sb, "logical CPUs", Integer.toString(m.logicalCpus()));
        row(sb, "memory", String.format(Locale.ROOT, "%.1f GiB", m.memTotalBytes() / MIB / 1024));
        row(sb, "JDK", m.jdk());
        row(sb, "OS", m.os());
        row(sb, "ND4J backend, BLAS", m.nd4jBackend() + ", " + m.blasVendor());
        row(sb, "threads", "BLAS " + m.blasThreads() + ", ND4J " + m.nd4jThreads() + ", OMP_NUM_THREADS="
                + m.ompNumThreads() + ", OMP_WAIT_POLICY=" + m.ompWaitPolicy());
        row(sb, "JVM memory", String.format(Locale.ROOT, "max heap %.1f GiB, JavaCPP maxphysicalbytes %.1f GiB",
                m.maxHeapBytes() / MIB / 1024, m.maxPhysicalBytes() / MIB / 1024));
        row(sb, "JVM flags", "`" + m.jvmFlags() + "`");
        row(sb, "load average (1/5/15 min)", "start " + m.loadAverage() + ", end " + r.loadAverageAtEnd());
        sb.append("\nsgemm, FP32, `Nd4j.gemm(A, B, C, false, true)` into a preallocated C (C[m,n] = A[m,k]·B[n,k]ᵀ, "
                + "2·m·n·k FLOPs), GFLOP/s, measured at the start and again at the end of the run:\n\n");
        sb.append("| shape | m × n × k | threads | median | min | max | n |\n|---|---|---|---|---|---|---|\n");
        for (MachineLimits.GemmResult g : l.gemm()) {
            Samples s = g.gflops();
            sb.append(String.format(Locale.ROOT, "| %s | %d × %d × %d | %d | %.1f | %.1f | %.1f | %d |%n",
                    g.shape().label(), g.shape().m(), g.shape().n(), g.shape().k(), g.threads(), s.median(), s.min(),
                    s.max(), s.count()));
        }
        sb.append(String.format(Locale.ROOT, "%nMFU denominator (the fastest call at %d threads, start and end of the "
                + "run together): **%.1f GFLOP/s** (%s).%n", l.threads(), l.peakGflops(), l.peakShape().label()));
        sb.append("\nRead bandwidth: a Java loop summing 64-bit words of a native buffer (as ND4J holds weights), "
                + "GB/s:\n\n| threads | buffer | median | min | max | n |\n|---|---|---|---|---|---|\n");
        for (MachineLimits.Bandwidth b : l.bandwidth()) {
            Samples s = b.gbPerSecond();
            sb.append(String.format(Locale.ROOT, "| %d | %.0f MiB | %.1f | %.1f | %.1f | %d |%n", b.threads(),
                    b.bufferBytes() / MIB, s.median(), s.min(), s.max(), s.count()));
        }
        sb.append(String.format(Locale.ROOT, "%nDecode bound denominator (the fastest pass): **%.1f GB/s**.%n",
                l.readBytesPerSecond() / 1e9));
        return sb.toString();
    }

    static String shapeSection(Benchmark.ShapeResult s, Benchmark.Report r) {
        double peak = r.limits().peakGflops();
        TrainingBench.Result t = s.training();
        FlopCount f = t.flops();
        BenchShape shape = s.shape();
        StringBuilder sb = new StringBuilder();
        sb.append("### Shape `").append(shape.name()).append("`: ").append(shape.describe()).append("\n\n");
        sb.append(String.format(Locale.ROOT, "Measured %s by `%s`; %d warm-up step(s) excluded, %d measured.%n%n",
                r.machine().date(), r.command(), r.warmup(), t.timings().step().count()));
        sb.append("| measure | median | min | max | n |\n|---|---|---|---|---|\n");
        line(sb, "training throughput, non-padding tokens/s", t.tokensPerSecond(), 1, 0);
        line(sb, "training step, s", t.timings().step(), 1, 3);
        line(sb, "  forward + loss, s", t.timings().forward(), 1, 3);
        line(sb, "  backward, s", t.timings().backward(), 1, 3);
        line(sb, "  grad clip + AdamW + native-memory GC, s", t.timings().optimizer(), 1, 3);
        line(sb, "training MFU, % of " + fmt(peak, 1) + " GFLOP/s",
                t.tokensPerSecond(), 100.0 * t.flopsPerToken() / (peak * 1e9), 2);
        line(sb, "decode, batch " + s.decode().batch() + ", tokens/s", s.decode().tokensPerSecond(), 1, 2);
        line(sb, "prefill, batch 1, " + s.prefill().promptTokens() + "-token prompt, tokens/s",
                s.prefill().tokensPerSecond(), 1, 0);
        sb.append(String.format(Locale.ROOT, "%nTraining FLOPs per token (see \"How FLOPs are counted\"): "
                        + "4·N = %s + 6·N_lora = %s + 12·L·T·d = %s → **%s** (N = %s frozen matmul parameters, "
                        + "N_lora = %s, L = %d, T = %d, d = %d). Achieved %.2f GFLOP/s at the median step. "
                        + "Loss %.4f → %.4f over the run (random data: it only has to stay finite).%n",
                eng(4 * f.frozenMatmulParams()), eng(6 * f.loraParams()),
                eng(12L * f.layers() * shape.seq() * f.qDim()), eng(t.flopsPerToken()), eng(f.frozenMatmulParams()),
                eng(f.loraParams()), f.layers(), shape.seq(), f.qDim(),
                t.tokensPerSecond().median() * t.flopsPerToken() / 1e9, t.firstLoss(), t.lastLoss()));
        DecodeBench.Result d = s.decode();
        double bw = r.limits().readBytesPerSecond();
        sb.append(String.format(Locale.ROOT, "%nDecode (%s, batch %d): %d-token prompt, %d new tokens per run, "
                        + "greedy; a step must read %.1f MiB (%s weights + KV cache at context %d), so the bandwidth "
                        + "bound is %.1f tokens/s; measured %.2f tokens/s = **%.1f%% of the bound** (effective %.2f "
                        + "GB/s, %.2f GFLOP/s).%n", d.path(), d.batch(), d.promptTokens(), d.newTokens(),
                d.bytesPerStep() / MIB, d.dtype(), d.promptTokens() + d.newTokens() / 2, d.boundTokensPerSecond(bw),
                d.tokensPerSecond().median(),
                100 * d.fractionOfBound(bw), d.effectiveBytesPerSecond() / 1e9,
                d.tokensPerSecond().median() * d.flopsPerToken() / 1e9));
        PrefillBench.Result p = s.prefill();
        sb.append(String.format(Locale.ROOT, "%nPrefill: %s FLOPs per prompt token (2·N + 4·L·T·d); %.2f GFLOP/s = "
                        + "%.1f%% of the sgemm peak.%n", eng(p.flopsPerToken()),
                p.tokensPerSecond().median() * p.flopsPerToken() / 1e9, 100 * p.mfu(peak)));

        TrainingBench.MemoryTerms m = t.memory();
        MemoryProbe.Peak pk = s.trainingPeak();
        sb.append("\nMemory during training (from loading the model to the last step):\n\n");
        sb.append("| term | MiB |\n|---|---|\n");
        mib(sb, "frozen weights, FP32 (each tensor once)", m.weightsBytes());
        mib(sb, "LoRA A, B + gradients + AdamW m, v (+ its scratch)", m.stateBytes());
        mib(sb, "activations the forward keeps for backward (logits included)", m.activationBytes());
        mib(sb, "**budget** = 1.25 × (weights + state + activations)", m.budgetBytes());
        mib(sb, "**measured** = peak RSS − RSS of the process before any model was loaded",
                s.measuredTrainingBytes());
        mib(sb, "peak RSS of the process" + (pk.hwmReset() ? " (VmHWM, reset before loading)" : " (sampled)"),
                pk.rss());
        mib(sb, "RSS before any model was loaded (JVM, ND4J and BLAS libraries)", s.rssAtStart());
        mib(sb, "RSS just before this model was loaded (+ what earlier phases left resident)",
                s.rssBeforeLoad());
        mib(sb, "peak Java heap in use (sampled every 5 ms)", pk.heapUsed());
        mib(sb, "peak off-heap (RSS − committed heap, sampled every 5 ms)", pk.nativeOutsideHeap());
        sb.append(String.format(Locale.ROOT, "%nGarbage collections meanwhile: %d (%.1f s). ND4J frees a buffer's"
                + " native memory only when a full GC collects its Java wrapper, so temporaries pile up between"
                + " collections: after a step that grew RSS by 512 MiB the trainer's NativeMemory.collectIfGrown runs"
                + " one, and within a step JavaCPP forces one when RSS passes maxphysicalbytes (here %.1f GiB).%n",
                pk.gcCount(), pk.gcMillis() / 1e3, r.machine().maxPhysicalBytes() / MIB / 1024));

        sb.append("\nTargets (issue 5; met in the benchmark, never asserted in tests):\n\n");
        sb.append("| target | measured | met |\n|---|---|---|\n");
        double mfu = 100 * t.mfu(peak);
        target(sb, "training MFU ≥ 60%" + (shape == BenchShape.SMOLLM2 ? "" : " (set for the SmolLM2 shape)"),
                fmt(mfu, 2) + "%", mfu >= 60);
        target(sb, "batch-1 FP32 decode ≥ 80% of the bandwidth bound", fmt(100 * d.fractionOfBound(bw), 1) + "%",
                d.fractionOfBound(bw) >= 0.8);
        target(sb, "peak training memory ≤ budget", String.format(Locale.ROOT, "%.0f MiB vs %.0f MiB",
                s.measuredTrainingBytes() / MIB, m.budgetBytes() / MIB), s.measuredTrainingBytes() <= m.budgetBytes());

        StepProfiler.Profile prof = t.profile();
        if (prof.samples() > 0) {
            int[] k = prof.kinds();
            double measured = java.util.Arrays.stream(t.timings().step().values()).sum();
            sb.append(String.format(Locale.ROOT, "%nWhere a measured training step's time goes (JFR: %d samples of "
                            + "the benchmark thread every 10 ms, attributed to the innermost lora4j method; they cover "
                            + "%.0f s of the %.0f s measured — time asleep or blocked, e.g. in a GC that JavaCPP "
                            + "forces, is not sampled): BLAS gemm %.0f%%, allocating ND4J buffers %.0f%%, other native "
                            + "ND4J ops "
                            + "%.0f%%, Java %.0f%%.%n%n",
                    prof.samples(), prof.samples() * 0.010, measured, pct(k[0], prof.samples()),
                    pct(k[1], prof.samples()), pct(k[2], prof.samples()), pct(k[3], prof.samples())));
            sb.append("| where | share | in BLAS gemm | allocating | in other ND4J native ops | in Java |\n"
                    + "|---|---|---|---|---|---|\n");
            List<StepProfiler.Row> rows = prof.rows();
            int shown = Math.min(rows.size(), 14);
            for (int i = 0; i < shown; i++) {
                StepProfiler.Row row = rows.get(i);
                sb.append(String.format(Locale.ROOT, "| `%s` | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% |%n",
                        row.where(), pct(row.samples(), prof.samples()), pct(row.gemm(), prof.samples()),
                        pct(row.alloc(), prof.samples()), pct(row.nativeOther(), prof.samples()),
                        pct(row.java(), prof.samples())));
            }
            if (rows.size() > shown) {
                int rest = rows.subList(shown, rows.size()).stream().mapToInt(StepProfiler.Row::samples).sum();
                sb.append(String.format(Locale.ROOT, "| %d more | %.1f%% | | | | |%n", rows.size() - shown,
                        pct(rest, prof.samples())));
            }
            sb.append("\nThe innermost frame of the same samples (the native entry point or Java method running):\n\n");
            sb.append("| innermost frame | share |\n|---|---|\n");
            prof.leaves().stream().limit(10).forEach(leaf -> sb.append(String.format(Locale.ROOT,
                    "| `%s` | %.1f%% |%n", leaf.method(), pct(leaf.samples(), prof.samples()))));
        }
        return sb.toString();
    }

    private static void row(StringBuilder sb, String k, String v) {
        sb.append("| ").append(k).append(" | ").append(v).append(" |\n");
    }

    private static void line(StringBuilder sb, String what, Samples s, double scale, int decimals) {
        sb.append("| ").append(what).append(" | ").append(fmt(s.median() * scale, decimals)).append(" | ")
                .append(fmt(s.min() * scale, decimals)).append(" | ").append(fmt(s.max() * scale, decimals))
                .append(" | ").append(s.count()).append(" |\n");
    }

    private static void mib(StringBuilder sb, String what, long bytes) {
        sb.append("| ").append(what).append(" | ").append(fmt(bytes / MIB, 1)).append(" |\n");
    }

    private static void target(StringBuilder sb, String what, String measured, boolean met) {
        sb.append("| ").append(what).append(" | ").append(measured).append(" | ").append(met ? "yes" : "**no**")
                .append(" |\n");
    }

    private static double pct(int part, int total) {
        return total == 0 ? 0 : 100.0 * part / total;
    }

    static String samples(Samples s, int decimals) {
        return fmt(s.median(), decimals) + " (min " + fmt(s.min(), decimals) + ", max " + fmt(s.max(), decimals)
                + ", n=" + s.count() + ")";
    }

    static String fmt(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** 1234567 → "1.23 M"; FLOP and parameter counts. */
    static String eng(long v) {
        if (v >= 1_000_000_000L) {
            return fmt(v / 1e9, 2) + " G";
        }
        if (v >= 1_000_000L) {
            return fmt(v / 1e6, 2) + " M";
        }
        if (v >= 1_000L) {
            return fmt(v / 1e3, 2) + " k";
        }
        return Long.toString(v);
    }
}
