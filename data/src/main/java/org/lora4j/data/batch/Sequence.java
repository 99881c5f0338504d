package org.lora4j.data.batch;

/**
 * One training row of at most {@code max_seq_len} tokens: a single example, or several packed examples.
 *
 * @param inputIds    token ids
 * @param labels      HF labels (−100 where no loss is taken); in a packed row the first token of every example is −100,
 *                    so no example learns to predict the start of the next one
 * @param positionIds RoPE positions, restarting at 0 for every packed example
 * @param segmentIds  which packed example each token belongs to (0, 1, ...); attention never crosses segments
 */
public record Sequence(int[] inputIds, int[] labels, int[] positionIds, int[] segmentIds) {
    public static final int IGNORE_INDEX = -100;

    public Sequence {
        int n = inputIds.length;
        if (labels.length != n || positionIds.length != n || segmentIds.length != n) {
            throw new IllegalArgumentException("a sequence's input_ids, labels, position_ids and segment ids must have "
                    + "the same length; found " + n + ", " + labels.length + ", " + positionIds.length + ", "
                    + segmentIds.length);
        }
    }

    /** A single, unpacked example. */
    public static Sequence of(int[] inputIds, int[] labels) {
        int[] pos = new int[inputIds.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        return new Sequence(inputIds, labels, pos, new int[inputIds.length]);
    }

    public int length() {
        return inputIds.length;
    }

    /** Tokens that are next-token targets ({@code labels[t+1] != −100}). */
    public int scoredTokens() {
        int n = 0;
        for (int i = 1; i < labels.length; i++) {
            if (labels[i] != IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }
}
