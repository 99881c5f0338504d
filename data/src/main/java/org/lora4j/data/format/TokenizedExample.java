package org.lora4j.data.format;

/**
 * One tokenized example with Hugging Face labels: {@code labels[t] = inputIds[t]} where the token carries loss,
 * {@link #IGNORE_INDEX} where it does not. As in transformers, the loss shifts: position t predicts
 * {@code labels[t + 1]}, so {@code labels[0]} is never a target.
 *
 * @param inputIds   token ids, at most {@code max_seq_len} of them
 * @param labels     one per id
 * @param truncated  whether tokens were cut off the end to fit {@code max_seq_len}
 * @param fullLength the number of tokens before truncation
 */
public record TokenizedExample(int[] inputIds, int[] labels, boolean truncated, int fullLength) {
    public static final int IGNORE_INDEX = -100;

    public TokenizedExample {
        if (inputIds.length != labels.length) {
            throw new IllegalArgumentException("inputIds and labels must have the same length; got " + inputIds.length
                    + " and " + labels.length);
        }
        if (fullLength < inputIds.length || truncated != (fullLength > inputIds.length)) {
            throw new IllegalArgumentException("fullLength " + fullLength + " and truncated=" + truncated
                    + " disagree with " + inputIds.length + " kept tokens");
        }
    }

    /** An example that was not truncated. */
    public TokenizedExample(int[] inputIds, int[] labels) {
        this(inputIds, labels, false, inputIds.length);
    }

    public int length() {
        return inputIds.length;
    }

    /** Tokens cut off by truncation. */
    public int droppedTokens() {
        return fullLength - inputIds.length;
    }

    /** Tokens that carry loss: labels other than {@link #IGNORE_INDEX} at positions 1.. (position 0 is never a target). */
    public int trainableTokens() {
        int n = 0;
        for (int t = 1; t < labels.length; t++) if (labels[t] != IGNORE_INDEX) n++;
        return n;
    }

    /** Whether position {@code t} carries a label (position 0's label is shown but never a target). */
    public boolean isLabelled(int t) {
        return labels[t] != IGNORE_INDEX;
    }
}
