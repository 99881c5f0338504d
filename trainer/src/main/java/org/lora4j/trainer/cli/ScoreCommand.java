package org.lora4j.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.generate.LogProbs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code lora4j score}: next-token log-probabilities at every position, for comparing implementations. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Score a sequence: next-token log-probabilities at every position, and its perplexity.",
        footer = {"", "Examples:",
            "  lora4j score --model DIR --prompt-ids 1,2,3 --json",
            "  lora4j score --model DIR --prompt \"The model reads the data\" --top 3"})
public final class ScoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Mixin
    PromptOptions prompt;

    @Option(names = "--json", description = "Print JSON: every position's full log-probability vector.")
    boolean json;

    @Option(names = "--full-logits", description = "With --json, also print the raw logits.")
    boolean fullLogits;

    @Option(names = "--top", defaultValue = "5", description = "Most likely next tokens shown per position (text output).")
    int top;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (LanguageModel lm = model.load(spec.commandLine().getErr())) {
            List<int[]> prompts = prompt.resolve(lm);
            if (prompts.size() != 1) {
                throw new IllegalArgumentException("score takes one sequence, found " + prompts.size());
            }
            int[] ids = prompts.get(0);
            float[][] logits = lm.logits(ids); // [T, V]
            float[][] logprobs = LogProbs.logSoftmax(logits);
            double nll = LogProbs.sequenceNll(logprobs, ids);
            int scored = ids.length - 1;
            if (json) {
                ObjectMapper m = new ObjectMapper();
                ObjectNode root = m.createObjectNode();
                root.put("model", lm.dir().toString());
                ArrayNode in = root.putArray("input_ids");
                for (int id : ids) {
                    in.add(id);
                }
                ArrayNode positions = root.putArray("positions");
                for (int t = 0; t < ids.length; t++) {
                    ObjectNode p = positions.addObject();
                    p.put("position", t);
                    p.put("token_id", ids[t]);
                    if (t + 1 < ids.length) {
                        p.put("next_token_id", ids[t + 1]);
                        p.put("next_token_logprob", logprobs[t][ids[t + 1]]);
                    }
                    ArrayNode lp = p.putArray("logprobs");
                    for (float v : logprobs[t]) {
                        lp.add(v);
                    }
                    if (fullLogits) {
                        ArrayNode lg = p.putArray("logits");
                        for (float v : logits[t]) {
                            lg.add(v);
                        }
                    }
                }
                root.put("scored_tokens", scored);
                root.put("total_logprob", -nll);
                root.put("perplexity", scored > 0 ? Math.exp(nll / scored) : Double.NaN);
                out.println(root.toString());
            } else {
                var tok = lm.tokenizer().orElse(null);
                for (int t = 0; t < ids.length; t++) {
                    StringBuilder sb = new StringBuilder();
                    sb.append(String.format("%4d  id %-6d %-16s", t, ids[t], tok == null ? "" : quote(tok.decode(
                            new int[] {ids[t]}, false))));
                    if (t + 1 < ids.length) {
                        sb.append(String.format(" next %-6d logprob %9.4f", ids[t + 1], logprobs[t][ids[t + 1]]));
                    }
                    sb.append("  top:");
                    for (int id : LogProbs.topK(logprobs[t], top)) {
                        sb.append(String.format(" %d(%.3f)", id, logprobs[t][id]));
                    }
                    out.println(sb);
                }
                out.printf("scored %d tokens: total logprob %.4f, perplexity %.4f%n", scored, -nll,
                        scored > 0 ? Math.exp(nll / scored) : Double.NaN);
            }
        }
        return 0;
    }

    private static String quote(String s) {
        return "'" + s.replace("\n", "\\n") + "'";
    }
}
