package org.lora4j.data.format;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.lora4j.data.format.DataFormat.Columns;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.data.tokenizer.ChatTemplate;
import org.lora4j.data.tokenizer.ChatTemplateException;
import org.lora4j.data.tokenizer.HfTokenizer;

/**
 * Renders a dataset row as text cut into trainable and masked {@link Segment}s. The masks come from where the
 * rendered pieces start and end, never from searching the text for a response template.
 *
 * <ul>
 *   <li>{@code TEXT}: BOS (when the tokenizer adds one) + text + EOS, all trainable.</li>
 *   <li>{@code PROMPT_COMPLETION}, {@code ALPACA} (prompt = instruction, or instruction + "\n\n" + input when input
 *       is non-empty): with a chat template, a user turn and an assistant turn rendered as {@code MESSAGES} are;
 *       without one, BOS? + prompt + completion + EOS (Alpaca: prompt + "\n\n" + output, since its columns carry
 *       no separator), only completion + EOS trainable. An optional {@code system} column becomes a leading system
 *       message (without a template: system + "\n\n" before the prompt, masked).</li>
 *   <li>{@code MESSAGES}, {@code SHAREGPT} ({@code from}: human|user -> user, gpt|assistant -> assistant,
 *       system -> system): assistant spans by <b>prefix rendering</b>. For the assistant message at index k,
 *       {@code P = render(messages[0..k), add_generation_prompt=true)} and
 *       {@code F = render(messages[0..k], add_generation_prompt=false)}; the assistant piece is F less its prefix P
 *       (content + end-of-turn tokens). Each P must be a prefix of its F and each F a prefix of the whole render,
 *       else the template does not render incrementally and a {@link ChatTemplateException} says so.</li>
 * </ul>
 * Under {@link TrainOn#COMPLETION}, an assistant turn or completion that is empty or blank carries no loss, its
 * end-of-turn token included: it would only teach the model to stop at once, and it is almost always a missing
 * value (CSV readers turn empty fields into null). An example left without trainable text is reported by
 * {@link ExampleTokenizer} as a {@link NoTrainableTokensException}. Under {@link TrainOn#ALL} the whole render is
 * one trainable segment.
 *
 * <p>Row values: strings, null (read as ""), and for {@code messages}/{@code conversations} lists of maps.
 */
public final class ExampleRenderer {
    private final DataFormat format;
    private final TrainOn trainOn;
    private final ChatTemplate template; // null: plain concatenation (TEXT, or a tokenizer without chat template)
    private final Map<String, ?> templateVariables;
    private final String bos; // BOS text when the tokenizer adds BOS on encode, else ""
    private final String eos; // EOS text, "" when the tokenizer has none

    public ExampleRenderer(DataFormat format, HfTokenizer tokenizer, TrainOn trainOn) {
        this(format, tokenizer, trainOn, Map.of());
    }

    /**
     * {@code templateVariables} are passed to the chat template besides the messages (e.g. Llama 3.1's
     * {@code date_string}). Throws the tokenizer's error for chat formats when it has no chat template.
     */
    public ExampleRenderer(DataFormat format, HfTokenizer tokenizer, TrainOn trainOn, Map<String, ?> templateVariables) {
        this.format = Objects.requireNonNull(format, "format");
        this.trainOn = Objects.requireNonNull(trainOn, "trainOn");
        this.templateVariables = Map.copyOf(templateVariables);
        boolean chat = format == DataFormat.MESSAGES || format == DataFormat.SHAREGPT;
        boolean maybeChat = format == DataFormat.PROMPT_COMPLETION || format == DataFormat.ALPACA;
        this.template = chat || (maybeChat && tokenizer.config().chatTemplate() != null) ? tokenizer.chatTemplate() : null;
        int[] probe = tokenizer.encode("a", true);
        boolean addsBos = tokenizer.bosId().isPresent() && probe.length > 0 && probe[0] == tokenizer.bosId().getAsInt();
        this.bos = addsBos ? tokenizer.config().bosToken() : "";
        this.eos = tokenizer.config().eosToken() == null ? "" : tokenizer.config().eosToken();
    }

    public DataFormat format() {
        return format;
    }

    public TrainOn trainOn() {
        return trainOn;
    }

    /** Whether prompt/completion formats go through the chat template (always for chat formats). */
    public boolean usesChatTemplate() {
        return template != null;
    }

    public RenderedExample render(Map<String, Object> row) {
        return render(row, "row");
    }

    /** Renders {@code row}; {@code where} (e.g. "train.arrow row 17") names it in errors. */
    public RenderedExample render(Map<String, Object> row, String where) {
        RenderedExample ex = switch (format) {
            case TEXT -> RenderedExample.of(Segment.trained(bos), Segment.trained(text(row, Columns.TEXT, where)),
                    Segment.trained(eos));
            case PROMPT_COMPLETION -> promptCompletion(optionalText(row, Columns.SYSTEM, where),
                    text(row, Columns.PROMPT, where), "", text(row, Columns.COMPLETION, where), where);
            case ALPACA -> {
                String instruction = text(row, Columns.INSTRUCTION, where);
                String input = optionalText(row, Columns.INPUT, where);
                String prompt = input.isEmpty() ? instruction : instruction + "\n\n" + input;
                yield promptCompletion(optionalText(row, Columns.SYSTEM, where), prompt, "\n\n",
                        text(row, Columns.OUTPUT, where), where);
            }
            case MESSAGES -> chat(withSystem(ChatRows.messages(row, where), row, where), where);
            case SHAREGPT -> chat(withSystem(ChatRows.conversations(row, where), row, where), where);
        };
        return trainOn == TrainOn.ALL ? ex.allTrainable() : ex;
    }

    private RenderedExample promptCompletion(String system, String prompt, String separator, String completion,
                                             String where) {
        if (template != null) {
            List<ChatMessage> messages = new ArrayList<>();
            if (!system.isEmpty()) messages.add(ChatMessage.system(system));
            messages.add(ChatMessage.user(prompt));
            messages.add(ChatMessage.assistant(completion));
            return chat(messages, where);
        }
        return RenderedExample.of(Segment.masked(bos), Segment.masked(system.isEmpty() ? "" : system + "\n\n"),
                Segment.masked(prompt + separator), new Segment(completion + eos, !completion.isBlank()));
    }

    private List<ChatMessage> withSystem(List<ChatMessage> messages, Map<String, Object> row, String where) {
        String system = optionalText(row, Columns.SYSTEM, where);
        if (system.isEmpty()) return messages;
        if (!messages.isEmpty() && messages.get(0).role().equals("system")) {
            throw new IllegalArgumentException(where + " has both a '" + Columns.SYSTEM + "' column and a leading system"
                    + " message; expected one of them. Fix: drop the system column or the system message");
        }
        List<ChatMessage> out = new ArrayList<>(messages.size() + 1);
        out.add(ChatMessage.system(system));
        out.addAll(messages);
        return out;
    }

    private RenderedExample chat(List<ChatMessage> messages, String where) {
        String full = template.render(messages, false, templateVariables);
        if (trainOn == TrainOn.ALL) return RenderedExample.of(Segment.trained(full));
        List<Segment> segments = new ArrayList<>();
        int pos = 0;
        for (int k = 0; k < messages.size(); k++) {
            ChatMessage m = messages.get(k);
            if (!m.role().equals("assistant")) continue;
            String prefix = template.render(messages.subList(0, k), true, templateVariables);
            String upTo = k + 1 == messages.size() ? full
                    : template.render(messages.subList(0, k + 1), false, templateVariables);
            requirePrefix(prefix, upTo, k, k + 1, "with the generation prompt", where);
            requirePrefix(upTo, full, k + 1, messages.size(), "", where);
            if (prefix.length() < pos) {
                throw notIncremental(k, k + 1, "the render of turns 1.." + k + " with the generation prompt ends at"
                        + " character " + prefix.length() + ", before the previous assistant turn ends (" + pos + ")",
                        where);
            }
            segments.add(Segment.masked(full.substring(pos, prefix.length())));
            segments.add(new Segment(full.substring(prefix.length(), upTo.length()), !m.content().isBlank()));
            pos = upTo.length();
        }
        segments.add(Segment.masked(full.substring(pos)));
        return new RenderedExample(segments);
    }

    private static void requirePrefix(String shorter, String longer, int k, int next, String how, String where) {
        if (longer.startsWith(shorter)) return;
        int d = 0;
        while (d < shorter.length() && d < longer.length() && shorter.charAt(d) == longer.charAt(d)) d++;
        throw notIncremental(k, next, "the render of turns 1.." + k + (how.isEmpty() ? "" : " " + how)
                + " and that of turns 1.." + next + " first differ at character " + d + ": " + excerpt(shorter, d)
                + " vs " + excerpt(longer, d), where);
    }

    private static ChatTemplateException notIncremental(int k, int next, String detail, String where) {
        return new ChatTemplateException("the chat template does not render conversations incrementally (render of"
                + " turns 1.." + k + " is not a prefix of turns 1.." + next + ") for " + where + ": " + detail
                + ". Assistant turns are found by rendering the conversation turn by turn, so a template that renders"
                + " earlier turns differently once later ones exist (e.g. one that drops the reasoning of earlier"
                + " assistant turns) cannot be masked. Fix: pass a template that renders earlier turns unchanged with"
                + " --chat-template FILE, or train on every token with train_on: all");
    }

    private static String excerpt(String s, int at) {
        int from = Math.max(0, at - 20);
        int to = Math.min(s.length(), at + 20);
        return "\"" + (from > 0 ? "..." : "") + s.substring(from, to).replace("\n", "\\n")
                + (to < s.length() ? "..." : "") + "\"";
    }

    /** A required column's string (null reads as ""). */
    static String text(Map<String, Object> row, String column, String where) {
        if (!row.containsKey(column)) {
            throw new IllegalArgumentException(where + " has no '" + column + "' column; columns: " + row.keySet());
        }
        return optionalText(row, column, where);
    }

    /** An optional column's string; absent or null reads as "". */
    static String optionalText(Map<String, Object> row, String column, String where) {
        Object v = row.get(column);
        if (v == null) return "";
        if (v instanceof String s) return s;
        throw new IllegalArgumentException(where + ": column '" + column + "' must hold text; found a "
                + v.getClass().getSimpleName() + ": " + ChatRows.abbreviate(String.valueOf(v)));
    }
}
