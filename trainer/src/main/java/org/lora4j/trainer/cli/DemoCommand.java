package org.lora4j.trainer.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.data.tokenizer.HfTokenizer;
import org.lora4j.inference.LanguageModel;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.LogProbs;
import org.lora4j.inference.tiny.Corpus;
import org.lora4j.inference.tiny.TinyModelGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code lora4j demo}: the runtime end to end on the embedded default — writes a tiny model of each supported
 * family in HF layout, loads it back, renders a chat with the family's template, generates with the KV cache
 * (greedy and sampled, batched) and scores a sentence.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the lora4j runtime end to end on tiny generated models (no download).")
public final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", defaultValue = "lora4j-demo", paramLabel = "DIR",
            description = "Where the demo writes its model folders. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        o.println("lora4j demo: tiny random models in Hugging Face layout, loaded and run by the lora4j runtime.");
        o.println("(The weights are random, so the text is gibberish; training arrives with the LoRA trainer.)");
        for (Architecture arch : Architecture.values()) {
            Path dir = out.resolve("tiny-" + arch.modelType());
            TinyModelGenerator.write(dir, arch, TinyModelGenerator.Size.TINY, 42, DType.F32);
            try (LanguageModel lm = LanguageModel.load(dir)) {
                HfTokenizer tok = lm.requireTokenizer("the demo");
                o.println();
                o.println("== " + arch.hfClass() + " == " + lm.config() + "  [" + dir + "]");
                String chat = tok.chatTemplate().render(List.of(new ChatMessage("user", "Who reads the data?")), true);
                o.println("chat template renders: " + chat.replace("\n", "\\n"));
                int[] chatIds = tok.encode(chat, false);
                int[] textIds = tok.encode("The model reads", true);
                long t0 = System.nanoTime();
                List<Generation> gens = lm.generate(List.of(chatIds, textIds),
                        GenerationConfig.greedy(16, lm.eosTokenIds()), null);
                double secs = (System.nanoTime() - t0) / 1e9;
                o.println("greedy, batch of 2 (" + String.format("%.2f s", secs) + "):");
                gens.forEach(g -> o.println("  -> " + g.text().replace("\n", "\\n") + "  [" + g.finishReason().openAiName() + "]"));
                GenerationConfig sampled = new GenerationConfig(16, 0.8, 40, 0.95, 1.1, 7, List.of(), lm.eosTokenIds());
                o.println("sampled (T=0.8, top-k 40, top-p 0.95, seed 7): "
                        + lm.generate(List.of(textIds), sampled, null).get(0).text().replace("\n", "\\n"));
                int[] sentence = tok.encode(Corpus.sentences(1, 1).get(0), true);
                float[][] lp = LogProbs.logSoftmax(lm.logits(sentence));
                double nll = LogProbs.sequenceNll(lp, sentence);
                o.printf("perplexity of a corpus sentence (%d tokens): %.2f (vocab %d: random weights score near it)%n",
                        sentence.length, Math.exp(nll / (sentence.length - 1)), lm.config().vocabSize());
            }
        }
        o.println();
        o.println("Next: lora4j generate --model " + out.resolve("tiny-llama") + " --chat \"Hello\" --max-new-tokens 20");
        return 0;
    }
}
