package org.lora4j.data.batch;

import java.util.List;

/**
 * Rows padded on the right to one length {@code T}, as the decoder consumes them; all {@code [B][T]}.
 *
 * @param valid      false at padding slots (their labels are −100 and no query attends to them)
 * @param segmentIds packed-example id per slot (padding gets −1)
 */
public record Batch(int[][] inputIds, int[][] labels, int[][] positionIds, int[][] segmentIds, boolean[][] valid) {

    /** Pads {@code rows} to their longest length with {@code padId}. */
    public static Batch of(List<Sequence> rows, int padId) {
        int t = rows.stream().mapToInt(Sequence::length).max().orElse(0);
        int b = rows.size();
        int[][] ids = new int[b][t];
        int[][] labels = new int[b][t];
        int[][] pos = new int[b][t];
        int[][] seg = new int[b][t];
        boolean[][] valid = new boolean[b][t];
        for (int r = 0; r < b; r++) {
            Sequence s = rows.get(r);
            for (int i = 0; i < t; i++) {
                boolean real = i < s.length();
                ids[r][i] = real ? s.inputIds()[i] : padId;
                labels[r][i] = real ? s.labels()[i] : Sequence.IGNORE_INDEX;
                pos[r][i] = real ? s.positionIds()[i] : 0;
                seg[r][i] = real ? s.segmentIds()[i] : -1;
                valid[r][i] = real;
            }
        }
        return new Batch(ids, labels, pos, seg, valid);
    }

    /** Real (non-padding) tokens. */
    public long realTokens() {
        long n = 0;
        for (boolean[] row : valid) {
            for (boolean v : row) {
                n += v ? 1 : 0;
            }
        }
        return n;
    }
}
