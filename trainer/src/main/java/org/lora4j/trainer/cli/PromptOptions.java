package org.lora4j.trainer.cli;

import java.util.ArrayList;
import java.util.List;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.data.tokenizer.HfTokenizer;
import org.lora4j.inference.LanguageModel;
import picocli.CommandLine.Option;

/** Exactly one way to give the input: raw text, a chat turn rendered with the model's template, or ids. */
final class PromptOptions {
    @Option(names = "--prompt", description = "Text to continue (tokenized with the model's tokenizer). Repeat for a batch.")
    List<String> prompts = new ArrayList<>();

    @Option(names = "--chat", description = "A user message, rendered with the model's chat template. Repeat for a batch.")
    List<String> chats = new ArrayList<>();

    @Option(names = "--system", description = "System message for --chat.")
    String system;

    @Option(names = "--prompt-ids", converter = IdList.class,
            description = "Token ids, comma-separated (works without tokenizer files). Repeat for a batch.")
    List<int[]> promptIds = new ArrayList<>();

    /** Token ids of every prompt, in the order given. */
    List<int[]> resolve(LanguageModel lm) {
        int kinds = (prompts.isEmpty() ? 0 : 1) + (chats.isEmpty() ? 0 : 1) + (promptIds.isEmpty() ? 0 : 1);
        if (kinds != 1) {
            throw new IllegalArgumentException("give exactly one of --prompt, --chat or --prompt-ids (found "
                    + kinds + ")");
        }
        List<int[]> out = new ArrayList<>(promptIds);
        if (!prompts.isEmpty()) {
            HfTokenizer tok = lm.requireTokenizer("--prompt");
            prompts.forEach(p -> out.add(tok.encode(p, true)));
        }
        if (!chats.isEmpty()) {
            HfTokenizer tok = lm.requireTokenizer("--chat");
            for (String c : chats) {
                List<ChatMessage> msgs = new ArrayList<>();
                if (system != null) {
                    msgs.add(new ChatMessage("system", system));
                }
                msgs.add(new ChatMessage("user", c));
                String rendered = tok.chatTemplate().render(msgs, true);
                out.add(tok.encode(rendered, false));
            }
        }
        return out;
    }
}
