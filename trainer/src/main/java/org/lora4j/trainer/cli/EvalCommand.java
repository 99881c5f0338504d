package org.lora4j.trainer.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lora4j.inference.LanguageModel;
import org.lora4j.trainer.train.Evaluator;
import org.lora4j.trainer.train.TokenChunks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code lora4j eval}: next-token loss and perplexity of a model (optionally with an adapter) on a text file. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Loss and perplexity on a text (.txt, one document per line) or .jsonl ({\"text\": ...}) file.",
        footer = {"", "Example:", "  lora4j eval --model DIR --adapter runs/out/adapter --data val.txt"})
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Option(names = "--data", required = true, paramLabel = "FILE")
    Path data;

    @Option(names = "--max-seq-len", defaultValue = "512", description = "Default: ${DEFAULT-VALUE}.")
    int maxSeqLen;

    @Option(names = "--batch-size", defaultValue = "4", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (LanguageModel lm = model.load(spec.commandLine().getErr())) {
            List<int[]> seqs = TokenChunks.fromFile(data, lm.requireTokenizer("eval on text"), maxSeqLen);
            Evaluator.Result r = Evaluator.evaluate(lm.decoder(), lm.forwardContext(), seqs, batchSize, 0);
            out.printf(Locale.ROOT, "loss %.4f  perplexity %.4f  (%d tokens in %d sequences)%n", r.loss(),
                    r.perplexity(), r.tokens(), seqs.size());
        }
        return 0;
    }
}
