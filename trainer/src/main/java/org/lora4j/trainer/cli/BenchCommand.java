package org.lora4j.trainer.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lora4j.trainer.bench.BenchReport;
import org.lora4j.trainer.bench.BenchShape;
import org.lora4j.trainer.bench.Benchmark;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code lora4j bench}: machine limits, LoRA training MFU and memory, decode and prefill (issue 5). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmark on this machine, in one run: sgemm GFLOP/s and read bandwidth; LoRA training "
                + "tokens/s, MFU and peak memory; batch-1 decode against the bandwidth bound; prefill tokens/s.",
            "Models are random HF checkpoints of the shape (small: hidden 256, 4 layers; smollm2: SmolLM2-135M). "
                + "Threads: LORA4J_THREADS / OMP_NUM_THREADS (scripts/lora4j sets OMP_WAIT_POLICY=PASSIVE)."},
        footer = {"", "Examples:",
            "  scripts/bench --shape small",
            "  scripts/bench --shape both --steps 3 --warmup 1 --out BENCHMARKS.md",
            "  scripts/bench --shape smollm2 --model-dir /tmp/bench-models   # keeps the generated checkpoints",
            "  scripts/bench --shape smollm2 --only decode --decode-dtype bfloat16 --steps 1 --warmup 1"})
public final class BenchCommand implements Callable<Integer> {
    enum ShapeName { small, smollm2, both }

    enum Phase { all, decode }

    enum WeightType { float32, bfloat16 }

    @Spec
    CommandSpec spec;

    @Option(names = "--shape", defaultValue = "both", description = "small | smollm2 | both. Default: ${DEFAULT-VALUE}.")
    ShapeName shape;

    @Option(names = "--steps", defaultValue = "5", description = "Measured training steps (and prefill runs). Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--warmup", defaultValue = "2", description = "Warm-up steps, not measured. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--decode-tokens", defaultValue = "32", description = "New tokens per decode run. Default: ${DEFAULT-VALUE}.")
    int decodeTokens;

    @Option(names = "--decode-prompt", defaultValue = "16", description = "Prompt tokens before decoding. Default: ${DEFAULT-VALUE}.")
    int decodePrompt;

    @Option(names = "--only", defaultValue = "all", description = "all | decode (machine limits and decode only, "
            + "console summary only). Default: ${DEFAULT-VALUE}.")
    Phase only;

    @Option(names = "--decode-dtype", defaultValue = "float32", description = "Weights (and KV cache) of the decode "
            + "model: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
    WeightType decodeDtype;

    @Option(names = "--decode-batch", defaultValue = "1", description = "Rows decoded together. Default: ${DEFAULT-VALUE}.")
    int decodeBatch;

    @Option(names = "--gemm-reps", defaultValue = "10", description = "Timed calls per sgemm shape and bandwidth passes. Default: ${DEFAULT-VALUE}.")
    int gemmReps;

    @Option(names = "--bandwidth-mib", defaultValue = "512", description = "Buffer read for the bandwidth. Default: ${DEFAULT-VALUE}.")
    int bandwidthMib;

    @Option(names = "--no-profile", description = "Do not sample the measured training steps with JFR.")
    boolean noProfile;

    @Option(names = "--model-dir", paramLabel = "DIR", description = "Write (and reuse) the random checkpoints in DIR/<shape> instead of a temporary folder.")
    Path modelDir;

    @Option(names = "--out", paramLabel = "FILE", description = "Update this Markdown file's benchmark sections (e.g. BENCHMARKS.md).")
    Path out;

    @Override
    public Integer call() {
        require(steps >= 1, "--steps must be >= 1, found " + steps);
        require(warmup >= 0, "--warmup must be >= 0, found " + warmup);
        require(decodeTokens >= 2, "--decode-tokens must be >= 2 (a decode time is the gap between two tokens), found "
                + decodeTokens);
        require(decodePrompt >= 1, "--decode-prompt must be >= 1, found " + decodePrompt);
        require(gemmReps >= 1, "--gemm-reps must be >= 1, found " + gemmReps);
        require(decodeBatch >= 1, "--decode-batch must be >= 1, found " + decodeBatch);
        require(out == null || only == Phase.all, "--out updates every section of the report; drop --only "
                + only + " or --out");
        require(bandwidthMib >= 64, "--bandwidth-mib must be >= 64 (far above the caches), found " + bandwidthMib);
        List<BenchShape> shapes = switch (shape) {
            case small -> List.of(BenchShape.SMALL);
            case smollm2 -> List.of(BenchShape.SMOLLM2);
            case both -> BenchShape.all();
        };
        String command = "lora4j " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        PrintStream log = System.err;
        Benchmark.Report report = Benchmark.run(new Benchmark.Options(shapes, warmup, steps, decodePrompt, decodeTokens,
                gemmReps, bandwidthMib * 1024L * 1024L, !noProfile, modelDir, command.strip(), only == Phase.decode,
                decodeDtype == WeightType.bfloat16 ? DataType.BFLOAT16 : DataType.FLOAT, decodeBatch), log);
        PrintStream stdout = System.out;
        BenchReport.print(report, stdout);
        if (out != null) {
            BenchReport.update(out, report);
            stdout.printf(Locale.ROOT, "updated %s%n", out);
        }
        return 0;
    }

    private void require(boolean ok, String message) {
        if (!ok) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }
}
