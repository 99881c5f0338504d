package org.lora4j.trainer.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lora4j.inference.LanguageModel;
import org.lora4j.trainer.train.Evaluator;
import org.lora4j.data.batch.Sequence;
import org.lora4j.data.format.TrainOn;
import org.lora4j.data.pipeline.CacheDir;
import org.lora4j.data.pipeline.DataPipeline;
import org.lora4j.data.pipeline.DataSettings;
import org.lora4j.data.pipeline.PreparedData;
import org.lora4j.data.tokenizer.HfTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code lora4j eval}: next-token loss and perplexity of a model (optionally with an adapter) on a text file. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Loss and perplexity on a dataset (Arrow save_to_disk folder, .arrow, .feather, .jsonl, .json, .csv), "
                + "over the tokens the loss mask trains on.",
        footer = {"", "Example:", "  lora4j eval --model DIR --adapter runs/out/adapter --data data/my_dataset"})
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

    @Option(names = "--format", defaultValue = "auto", description = "Dataset format. Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--train-on", defaultValue = "completion",
            description = "Tokens scored: completion or all. Default: ${DEFAULT-VALUE}.")
    String trainOn;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (LanguageModel lm = model.load(spec.commandLine().getErr())) {
            HfTokenizer tok = lm.requireTokenizer("eval");
            PreparedData p = DataPipeline.prepare(data, tok, new DataSettings(format, maxSeqLen, false,
                    TrainOn.valueOf(trainOn.toUpperCase(Locale.ROOT))), CacheDir.resolve(), n -> { });
            List<Sequence> seqs = p.sequences();
            int padId = tok.padId().orElse(tok.eosIds().length > 0 ? tok.eosIds()[0] : 0);
            Evaluator.Result r = Evaluator.evaluate(lm.decoder(), lm.forwardContext(), seqs, batchSize, 0, padId);
            out.printf(Locale.ROOT, "loss %.4f  perplexity %.4f  (%d scored tokens in %d examples)%n", r.loss(),
                    r.perplexity(), r.tokens(), seqs.size());
        }
        return 0;
    }
}
