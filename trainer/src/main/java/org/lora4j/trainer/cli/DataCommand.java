package org.lora4j.trainer.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lora4j.data.arrow.CloseableIterator;
import org.lora4j.data.arrow.Convert;
import org.lora4j.data.arrow.Dataset;
import org.lora4j.data.arrow.Row;
import org.lora4j.data.batch.Sequence;
import org.lora4j.data.batch.SequencePacker;
import org.lora4j.data.format.DataFormat;
import org.lora4j.data.format.ExampleRenderer;
import org.lora4j.data.format.ExampleTokenizer;
import org.lora4j.data.format.MaskView;
import org.lora4j.data.format.TokenizationStats;
import org.lora4j.data.format.TokenizedExample;
import org.lora4j.data.format.TrainOn;
import org.lora4j.data.tokenizer.HfTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code lora4j data}: look at a dataset the way the trainer will see it, and convert JSONL/CSV to Arrow. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Inspect, measure and convert datasets.",
        subcommands = {DataCommand.Inspect.class, DataCommand.Stats.class, DataCommand.ConvertCmd.class})
public final class DataCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Options shared by inspect and stats. */
    static final class DataOptions {
        @Option(names = "--data", required = true, paramLabel = "PATH",
                description = "save_to_disk folder, .arrow/.feather, .jsonl/.json, .csv")
        Path data;

        @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "Model folder (tokenizer and chat template).")
        Path model;

        @Option(names = "--format", defaultValue = "auto", description = "Default: ${DEFAULT-VALUE}.")
        String format;

        @Option(names = "--train-on", defaultValue = "completion", description = "completion or all. Default: ${DEFAULT-VALUE}.")
        String trainOn;

        @Option(names = "--max-seq-len", defaultValue = "2048", description = "Default: ${DEFAULT-VALUE}.")
        int maxSeqLen;

        TrainOn trainOn() {
            return TrainOn.valueOf(trainOn.toUpperCase(Locale.ROOT));
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Schema, row count, detected format, and the first examples rendered with the loss mask "
                    + "visible ([masked] text is not trained on; dimmed on a terminal).")
    static final class Inspect implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        DataOptions opt;

        @Option(names = "-n", defaultValue = "3", description = "Examples to show. Default: ${DEFAULT-VALUE}.")
        int n;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            boolean ansi = System.console() != null && System.getenv("CI") == null;
            try (Dataset ds = Dataset.open(opt.data); HfTokenizer tok = HfTokenizer.load(opt.model)) {
                DataFormat f = DataFormat.parse(opt.format, ds.columns(), ds.path().toString());
                out.println("dataset: " + ds.path() + " (" + ds.format() + "), " + ds.numRows() + " rows");
                out.println("schema:\n  " + ds.describeSchema().replace("\n", "\n  "));
                out.println("format: " + f.recipeName() + ", train_on: " + opt.trainOn);
                ExampleRenderer r = new ExampleRenderer(f, tok, opt.trainOn());
                ExampleTokenizer et = new ExampleTokenizer(tok, opt.maxSeqLen);
                try (CloseableIterator<Row> rows = ds.rows()) {
                    for (int i = 0; i < n && rows.hasNext(); i++) {
                        Row row = rows.next();
                        TokenizedExample ex = et.tokenizeAllowingEmpty(r.render(row.values(), "row " + row.index()));
                        out.printf(Locale.ROOT, "%n--- row %d: %d tokens, %d trained%s ---%n", row.index(), ex.length(),
                                ex.trainableTokens(), ex.truncated() ? ", truncated" : "");
                        out.println(MaskView.show(ex, tok, ansi));
                    }
                }
            }
            return 0;
        }
    }

    @Command(name = "stats", mixinStandardHelpOptions = true,
            description = "Token-length histogram, truncated share, trainable-token share and packing efficiency.")
    static final class Stats implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        DataOptions opt;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            TokenizationStats stats = new TokenizationStats(opt.maxSeqLen);
            List<Integer> lengths = new ArrayList<>();
            List<int[][]> examples = new ArrayList<>();
            try (Dataset ds = Dataset.open(opt.data); HfTokenizer tok = HfTokenizer.load(opt.model)) {
                DataFormat f = DataFormat.parse(opt.format, ds.columns(), ds.path().toString());
                ExampleRenderer r = new ExampleRenderer(f, tok, opt.trainOn());
                ExampleTokenizer et = new ExampleTokenizer(tok, opt.maxSeqLen);
                try (CloseableIterator<Row> rows = ds.rows()) {
                    while (rows.hasNext()) {
                        Row row = rows.next();
                        TokenizedExample ex = et.tokenizeAllowingEmpty(r.render(row.values(), "row " + row.index()));
                        stats.add(ex);
                        lengths.add(ex.fullLength());
                        examples.add(new int[][] {ex.inputIds(), ex.labels()});
                    }
                }
                out.println(ds.path() + " as " + f.recipeName() + ": " + stats);
            }
            out.printf(Locale.ROOT, "truncated: %.1f%% of examples; trainable tokens: %.1f%% of tokens%n",
                    100.0 * stats.truncated() / Math.max(1, stats.examples()),
                    100.0 * stats.trainableTokens() / Math.max(1, stats.tokens()));
            List<Sequence> packed = SequencePacker.pack(examples, opt.maxSeqLen);
            out.printf(Locale.ROOT, "packing into %d-token rows: %d rows for %d examples, %.1f%% full%n", opt.maxSeqLen,
                    packed.size(), examples.size(), 100 * SequencePacker.efficiency(packed, opt.maxSeqLen));
            out.println("token lengths (before truncation):");
            int max = lengths.stream().mapToInt(Integer::intValue).max().orElse(1);
            int buckets = 10;
            int width = Math.max(1, (max + buckets - 1) / buckets);
            int[] counts = new int[buckets];
            for (int len : lengths) {
                counts[Math.min(buckets - 1, len / width)]++;
            }
            int peak = java.util.Arrays.stream(counts).max().orElse(1);
            for (int b = 0; b < buckets; b++) {
                out.printf(Locale.ROOT, "  %6d-%-6d %6d %s%n", b * width, (b + 1) * width - 1, counts[b],
                        "#".repeat((int) Math.round(40.0 * counts[b] / Math.max(1, peak))));
            }
            return 0;
        }
    }

    @Command(name = "convert", mixinStandardHelpOptions = true,
            description = "Convert JSONL/JSON/CSV (or an Arrow file) into an Arrow dataset folder in the HF save_to_disk "
                    + "layout (datasets.load_from_disk opens it).")
    static final class ConvertCmd implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--input", required = true, paramLabel = "FILE")
        Path input;

        @Option(names = "--out", required = true, paramLabel = "DIR")
        Path out;

        @Override
        public Integer call() {
            Path written = Convert.jsonOrCsvToDataset(input, out);
            try (Dataset ds = Dataset.open(written)) {
                spec.commandLine().getOut().println("wrote " + written + ": " + ds.numRows() + " rows; columns "
                        + ds.columns());
            }
            return 0;
        }
    }
}
