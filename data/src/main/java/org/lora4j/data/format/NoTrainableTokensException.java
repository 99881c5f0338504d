package org.lora4j.data.format;

import org.lora4j.data.tokenizer.HfTokenizer;

/**
 * An example in which no token carries loss (every label is -100, or only position 0's, which is never a target).
 * Training on it would add nothing, and a dataset of such examples trains nothing while reporting a loss; the
 * message shows the example with its masked text in [brackets] (its middle left out past 4000 characters;
 * {@link #shown()} has all of it).
 */
public final class NoTrainableTokensException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String where;
    private final String shown;

    /** {@code onlyFirstLabelled}: the one label is position 0's, which no position predicts. */
    public NoTrainableTokensException(String where, String shown, boolean onlyFirstLabelled) {
        super(where + " has no trainable token: " + (onlyFirstLabelled ? "only its first token is labelled, and"
                + " nothing predicts the first token" : "every label is -100") + ", so it would add nothing to the"
                + " loss. Rendered, masked text in [brackets]:\n" + abbreviate(shown) + "\nFix: check that the"
                + " completion / assistant turns are not empty (an empty one carries no loss) and that the rows hold what the format"
                + " expects, or train on every token with train_on: all");
        this.where = where;
        this.shown = shown;
    }

    /** The exception for {@code ex}, untruncated, shown with {@link MaskView}. */
    public static NoTrainableTokensException of(String where, TokenizedExample ex, HfTokenizer tokenizer) {
        return new NoTrainableTokensException(where, MaskView.show(ex, tokenizer, false),
                ex.length() > 0 && ex.isLabelled(0));
    }

    private static String abbreviate(String s) {
        if (s.length() <= 4000) return s;
        return s.substring(0, 2000) + "\n... (" + (s.length() - 4000) + " characters left out) ...\n"
                + s.substring(s.length() - 2000);
    }

    public String where() {
        return where;
    }

    /** The example with its mask made visible ({@link MaskView}). */
    public String shown() {
        return shown;
    }
}
