package org.lora4j.data.format;

import java.util.Arrays;
import org.lora4j.data.tokenizer.HfTokenizer;

/**
 * Shows which text of an example carries loss: trainable text plain, masked text in [brackets] or, with ANSI,
 * dimmed. Runs of tokens with the same status are decoded together, so a character split across a boundary
 * between runs may show as U+FFFD. Used by {@code lora4j data inspect} and in {@link NoTrainableTokensException}.
 */
public final class MaskView {
    static final String DIM = "\u001b[2m";
    static final String RESET = "\u001b[22m";

    private MaskView() {}

    public static String show(TokenizedExample ex, HfTokenizer tok, boolean ansi) {
        int[] ids = ex.inputIds();
        StringBuilder sb = new StringBuilder();
        int from = 0;
        while (from < ids.length) {
            boolean trainable = ex.isLabelled(from);
            int to = from + 1;
            while (to < ids.length && ex.isLabelled(to) == trainable) to++;
            String text = tok.decode(Arrays.copyOfRange(ids, from, to), false);
            sb.append(trainable ? text : mark(text, ansi));
            from = to;
        }
        if (ex.truncated()) sb.append(mark("... " + ex.droppedTokens() + " tokens cut by max_seq_len", ansi));
        return sb.toString();
    }

    /** The same view of the text before tokenization, segment by segment. */
    public static String show(RenderedExample ex, boolean ansi) {
        StringBuilder sb = new StringBuilder();
        for (Segment s : ex.segments()) sb.append(s.trainable() ? s.text() : mark(s.text(), ansi));
        return sb.toString();
    }

    private static String mark(String text, boolean ansi) {
        return ansi ? DIM + text + RESET : "[" + text + "]";
    }
}
