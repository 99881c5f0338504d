package org.lora4j.trainer.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.merge.LoraMerge;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.trainer.progress.Progress;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code lora4j merge}: writes base + adapter as one plain HF model folder. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge a LoRA adapter into its base (W + s·B·A, in FP32, stored in the base's dtype) and write a "
                + "complete Hugging Face model folder.",
        footer = {"", "Example:", "  lora4j merge --model models/base --adapter runs/out/adapter --out models/merged"})
public final class MergeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR")
    Path model;

    @Option(names = "--adapter", required = true, paramLabel = "DIR")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "DIR")
    Path out;

    @Option(names = "--max-shard-size", defaultValue = "5GB", paramLabel = "SIZE",
            description = "Largest safetensors shard, e.g. 2GB, 500MB. Default: ${DEFAULT-VALUE}.")
    String maxShard;

    @Option(names = "--overwrite", description = "Replace an existing, non-empty output folder.")
    boolean overwrite;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        LoraAdapter lora = PeftAdapterFiles.load(adapter, DataType.FLOAT, w -> o.println("warning: " + w));
        long t0 = System.nanoTime();
        try (Progress progress = Progress.create("merging tensors", -1, 50, System.err)) {
            LoraMerge.mergeModelFolder(model, lora, out, parseSize(maxShard), overwrite,
                    (i, n) -> progress.update(i, i + "/" + n));
        }
        o.printf(Locale.ROOT, "merged %s (%d LoRA modules) into %s in %.1f s%n", adapter, lora.modules().size(), out,
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    static long parseSize(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        for (String[] u : new String[][] {{"GB", "1000000000"}, {"MB", "1000000"}, {"KB", "1000"}, {"B", "1"}}) {
            if (t.endsWith(u[0])) {
                unit = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            return (long) (Double.parseDouble(t) * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--max-shard-size '" + s + "' is not a size; use e.g. 5GB, 500MB");
        }
    }
}
