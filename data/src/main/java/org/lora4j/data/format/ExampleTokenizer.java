package org.lora4j.data.format;

import java.util.Arrays;
import java.util.Objects;
import org.lora4j.data.tokenizer.HfTokenizer;

/**
 * Tokenizes a {@link RenderedExample} and derives its labels from the segments' character offsets.
 *
 * <p>The whole text is tokenized once, without adding special tokens (the template or the renderer wrote them as
 * text), exactly as the model will see it at inference. Each token gets the span of text it covers
 * ({@link HfTokenizer#encodeWithOffsets}); its label is its id when the span <b>starts</b> inside a trainable
 * segment, {@link TokenizedExample#IGNORE_INDEX} otherwise. A token straddling a segment boundary thus goes with the
 * segment it starts in: with plain concatenation, prompt "Q: 2+2= " and completion "4" may tokenize as "Q", ":", " 2",
 * ..., " 4", and " 4" is then masked. Chat templates end their headers with a special token or a newline, where
 * tokens do not straddle. A token's start is taken as the smaller of its reported start and the end of the text
 * covered by the tokens before it: tokens tile the text, and some tokenizers report offsets trimmed of whitespace
 * (ByteLevel {@code trim_offsets=true}, as in GPT-2's {@code tokenizer.json}: " the" reported from "t", a lone
 * space token as an empty span after it), which would otherwise move whitespace into the next segment.
 *
 * <p>{@link #tokenize} rejects an example with no trainable token (before truncation) with
 * {@link NoTrainableTokensException}, which shows it with its mask: that is the silent "every label is -100"
 * failure; {@link #tokenizeAllowingEmpty} returns it for callers that drop and count such examples. Truncation
 * keeps the first {@code maxSeqLen} tokens; an example whose trainable tokens all lie past the cut comes back with
 * {@code trainableTokens() == 0} and {@code truncated == true}, for the caller to count and drop
 * ({@link TokenizationStats}).
 */
public final class ExampleTokenizer {
    private final HfTokenizer tokenizer;
    private final int maxSeqLen;

    public ExampleTokenizer(HfTokenizer tokenizer, int maxSeqLen) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        if (maxSeqLen < 2) {
            throw new IllegalArgumentException("max_seq_len must be at least 2 (one token to predict from, one to"
                    + " predict); got " + maxSeqLen);
        }
        this.maxSeqLen = maxSeqLen;
    }

    public int maxSeqLen() {
        return maxSeqLen;
    }

    public TokenizedExample tokenize(RenderedExample ex) {
        return tokenize(ex, "example");
    }

    /**
     * Tokenizes {@code ex}; {@code where} (e.g. "train.arrow row 17") names it in errors. Throws
     * {@link NoTrainableTokensException} when no token of the untruncated example carries loss.
     */
    public TokenizedExample tokenize(RenderedExample ex, String where) {
        TokenizedExample full = label(ex);
        if (full.trainableTokens() == 0) throw NoTrainableTokensException.of(where, full, tokenizer);
        return truncate(full);
    }

    /**
     * As {@link #tokenize(RenderedExample, String)}, but an example without trainable token is returned (with
     * {@code trainableTokens() == 0}) rather than rejected: for callers that drop such examples, count them, and
     * raise {@link NoTrainableTokensException#of} themselves when none is left.
     */
    public TokenizedExample tokenizeAllowingEmpty(RenderedExample ex) {
        return truncate(label(ex));
    }

    /** The whole example, labelled from its segments' offsets. */
    private TokenizedExample label(RenderedExample ex) {
        String text = ex.text();
        HfTokenizer.Encoded enc = tokenizer.encodeWithOffsets(text);
        boolean[] trainableChar = trainableChars(ex, text.length());
        int n = enc.size();
        int[] ids = enc.ids();
        int[] labels = new int[n];
        int covered = 0; // end of the text covered by tokens 0..t-1
        for (int t = 0; t < n; t++) {
            int start = Math.min(enc.charStart()[t], covered);
            covered = Math.max(covered, enc.charEnd()[t]);
            boolean trainable = start < text.length() && trainableChar[start];
            labels[t] = trainable ? ids[t] : TokenizedExample.IGNORE_INDEX;
        }
        return new TokenizedExample(ids, labels);
    }

    /** The first {@code maxSeqLen} tokens. */
    private TokenizedExample truncate(TokenizedExample full) {
        int n = full.length();
        if (n <= maxSeqLen) return full;
        return new TokenizedExample(Arrays.copyOf(full.inputIds(), maxSeqLen), Arrays.copyOf(full.labels(), maxSeqLen),
                true, n);
    }

    private static boolean[] trainableChars(RenderedExample ex, int length) {
        boolean[] out = new boolean[length];
        int pos = 0;
        for (Segment s : ex.segments()) {
            int end = pos + s.text().length();
            if (s.trainable()) Arrays.fill(out, pos, end, true);
            pos = end;
        }
        return out;
    }
}
