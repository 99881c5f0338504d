package org.lora4j.trainer.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.lora4j.trainer.demo.DemoAssets;
import org.lora4j.trainer.demo.TicketTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code lora4j demo assets}: regenerates the demo's corpus, initial base model and task datasets. */
@Command(name = "assets", mixinStandardHelpOptions = true,
        description = "Write the demo's sources: the pre-training corpus (corpus.jsonl), the untrained base model "
                + "(init/: tokenizer, ChatML template, config, random weights) and the task datasets (train/, "
                + "validation/ in the save_to_disk layout). recipes/demo/base_full.yaml pre-trains the base from them.")
public final class DemoAssetsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", defaultValue = "runs/demo-src", paramLabel = "DIR", description = "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--seed", defaultValue = "2026", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() {
        DemoAssets.writeCorpus(out.resolve("corpus.jsonl"), seed, 4000);
        var c = DemoAssets.writeInitialModel(out.resolve("init"), seed);
        DemoAssets.writeTaskDataset(out.resolve("train"), TicketTask.examples(seed + 10, 400));
        DemoAssets.writeTaskDataset(out.resolve("validation"), TicketTask.examples(seed + 20, 60));
        spec.commandLine().getOut().println("wrote corpus.jsonl, init/ (" + c + "), train/ and validation/ to " + out);
        return 0;
    }
}
