package org.lora4j.data.format;

/**
 * Counts over tokenized examples for the data report: examples, tokens kept, trainable tokens, and how many
 * examples {@code max_seq_len} truncated, how many tokens it cut, and how many truncated examples lost every
 * trainable token (those are dropped by the caller). Not thread-safe; {@link #add(TokenizationStats)} merges.
 */
public final class TokenizationStats {
    private final int maxSeqLen;
    private long examples;
    private long tokens;
    private long trainableTokens;
    private long truncated;
    private long droppedTokens;
    private long emptiedByTruncation;

    public TokenizationStats(int maxSeqLen) {
        this.maxSeqLen = maxSeqLen;
    }

    public void add(TokenizedExample ex) {
        examples++;
        tokens += ex.length();
        trainableTokens += ex.trainableTokens();
        if (ex.truncated()) {
            truncated++;
            droppedTokens += ex.droppedTokens();
            if (ex.trainableTokens() == 0) emptiedByTruncation++;
        }
    }

    public void add(TokenizationStats other) {
        examples += other.examples;
        tokens += other.tokens;
        trainableTokens += other.trainableTokens;
        truncated += other.truncated;
        droppedTokens += other.droppedTokens;
        emptiedByTruncation += other.emptiedByTruncation;
    }

    public long examples() {
        return examples;
    }

    public long tokens() {
        return tokens;
    }

    public long trainableTokens() {
        return trainableTokens;
    }

    public long truncated() {
        return truncated;
    }

    public long droppedTokens() {
        return droppedTokens;
    }

    /** Truncated examples left with no trainable token. */
    public long emptiedByTruncation() {
        return emptiedByTruncation;
    }

    /**
     * E.g. "1000 examples, 51234 tokens (20480 trainable); 12 truncated to max_seq_len 512 (3456 tokens cut, 2 left
     * with no trainable token)".
     */
    @Override
    public String toString() {
        String s = examples + " examples, " + tokens + " tokens (" + trainableTokens + " trainable); " + truncated
                + " truncated to max_seq_len " + maxSeqLen;
        if (truncated > 0) {
            s += " (" + droppedTokens + " tokens cut, " + emptiedByTruncation + " left with no trainable token)";
        }
        return s;
    }
}
