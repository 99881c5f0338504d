package org.lora4j.trainer.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.lora4j.data.tokenizer.HfTokenizer;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.Generator;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code lora4j generate}: text (or ids) out of a model folder, greedy or sampled. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate a continuation with the KV cache (greedy by default).",
        footer = {"", "Examples:",
            "  lora4j generate --model DIR --prompt \"Once upon a time\" --max-new-tokens 40",
            "  lora4j generate --model DIR --chat \"Hello!\" --temperature 0.7 --top-p 0.9 --seed 1",
            "  lora4j generate --model DIR --prompt-ids 1,15,27 --ids"})
public final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Mixin
    PromptOptions prompt;

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "0 = off. Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", description = "1 = off. Default: ${DEFAULT-VALUE}.")
    double topP;

    @Option(names = "--repetition-penalty", defaultValue = "1.0", description = "1 = off. Default: ${DEFAULT-VALUE}.")
    double repetitionPenalty;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--stop", description = "Stop string (repeatable).")
    List<String> stops = new ArrayList<>();

    @Option(names = "--ids", description = "Also print the generated token ids.")
    boolean printIds;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LanguageModel lm = model.load(err)) {
            List<int[]> prompts = prompt.resolve(lm);
            GenerationConfig cfg = new GenerationConfig(maxNewTokens, temperature, topK, topP, repetitionPenalty,
                    seed, stops, lm.eosTokenIds());
            HfTokenizer tok = lm.tokenizer().orElse(null);
            Generator.TokenListener stream = prompts.size() == 1 && tok != null && stops.isEmpty()
                    ? new Streamer(tok, out, cfg) : null;
            long t0 = System.nanoTime();
            List<Generation> gens = lm.generate(prompts, cfg, stream);
            double secs = (System.nanoTime() - t0) / 1e9;
            int total = 0;
            for (int i = 0; i < gens.size(); i++) {
                Generation g = gens.get(i);
                total += g.tokenIds().length;
                if (gens.size() > 1) {
                    out.println("--- prompt " + (i + 1) + " ---");
                }
                if (stream == null && g.text() != null) {
                    out.println(g.text());
                } else if (stream != null) {
                    out.println();
                }
                if (printIds || g.text() == null) {
                    out.println("ids: " + Arrays.stream(g.tokenIds()).mapToObj(Integer::toString)
                            .collect(Collectors.joining(",")));
                }
                out.println("finish_reason: " + g.finishReason().openAiName());
            }
            out.flush();
            err.printf("%d tokens in %.2f s (%.1f tokens/s, prompt included)%n", total, secs, total / secs);
        }
        return 0;
    }

    /** Prints the text of a single row as it grows (decoding the whole row each time keeps UTF-8 intact). */
    private static final class Streamer implements Generator.TokenListener {
        private final HfTokenizer tok;
        private final PrintWriter out;
        private final GenerationConfig cfg;
        private final List<Integer> ids = new ArrayList<>();
        private String printed = "";

        Streamer(HfTokenizer tok, PrintWriter out, GenerationConfig cfg) {
            this.tok = tok;
            this.out = out;
            this.cfg = cfg;
        }

        @Override
        public void onToken(int row, int tokenId) {
            if (cfg.isEos(tokenId)) {
                return;
            }
            ids.add(tokenId);
            String text = tok.decode(ids.stream().mapToInt(Integer::intValue).toArray(), true);
            if (text.startsWith(printed) && !text.endsWith("\uFFFD")) {
                out.print(text.substring(printed.length()));
                out.flush();
                printed = text;
            }
        }
    }
}
