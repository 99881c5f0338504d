package org.lora4j.trainer.demo;

import java.util.ArrayList;
import java.util.List;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.data.tokenizer.HfTokenizer;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;

/** Held-out task accuracy: greedy answers to each request, rendered with the model's chat template, exact match. */
public final class TaskAccuracy {
    private TaskAccuracy() {
    }

    public record Result(int correct, int total, List<String> answers) {
        public double percent() {
            return total == 0 ? 0 : 100.0 * correct / total;
        }
    }

    public static Result evaluate(LanguageModel lm, List<TicketTask.Example> examples, int batchSize) {
        HfTokenizer tok = lm.requireTokenizer("the demo");
        GenerationConfig greedy = GenerationConfig.greedy(32, lm.eosTokenIds());
        List<String> answers = new ArrayList<>();
        int correct = 0;
        for (int start = 0; start < examples.size(); start += batchSize) {
            List<TicketTask.Example> chunk = examples.subList(start, Math.min(examples.size(), start + batchSize));
            List<int[]> prompts = new ArrayList<>();
            for (TicketTask.Example e : chunk) {
                String chat = tok.chatTemplate().render(List.of(new ChatMessage("user", e.prompt())), true);
                prompts.add(tok.encode(chat, false));
            }
            List<Generation> gens = lm.generate(prompts, greedy, null);
            for (int i = 0; i < chunk.size(); i++) {
                String text = gens.get(i).text();
                answers.add(text);
                if (TicketTask.correct(chunk.get(i), text)) {
                    correct++;
                }
            }
        }
        return new Result(correct, examples.size(), answers);
    }
}
