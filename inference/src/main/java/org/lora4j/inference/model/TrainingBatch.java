package org.lora4j.inference.model;

/**
 * One micro-batch of tokenized examples as the decoder trains on it, all {@code [B][T]}.
 *
 * @param inputIds    token ids (padding slots hold any valid id)
 * @param labels      HF labels: the token each position should be predicted as, {@code -100} where no loss is taken
 *                    (prompt, padding, packed-example starts); the shift to next-token targets happens in the loss
 * @param positionIds RoPE positions (restarting at 0 for every packed example)
 * @param mask        padding and packed-example boundaries for attention
 */
public record TrainingBatch(int[][] inputIds, int[][] labels, int[][] positionIds, AttentionMask mask) {

    /** Unpadded rows of equal length, positions 0..T−1, labels = input ids (plain language modelling). */
    public static TrainingBatch causal(int[][] ids) {
        int[][] pos = new int[ids.length][];
        int[][] labels = new int[ids.length][];
        for (int b = 0; b < ids.length; b++) {
            pos[b] = new int[ids[b].length];
            for (int i = 0; i < pos[b].length; i++) {
                pos[b][i] = i;
            }
            labels[b] = ids[b].clone();
        }
        return new TrainingBatch(ids, labels, pos, AttentionMask.causal());
    }

    public int batchSize() {
        return inputIds.length;
    }

    public int length() {
        return inputIds[0].length;
    }

    /** Next-token targets {@code [B·T]}: position t of row b is trained to predict {@code labels[b][t+1]}. */
    public int[] shiftedTargets() {
        int t = length();
        int[] out = new int[batchSize() * t];
        for (int b = 0; b < batchSize(); b++) {
            for (int i = 0; i < t; i++) {
                out[b * t + i] = i + 1 < t ? labels[b][i + 1] : CrossEntropy.IGNORE_INDEX;
            }
        }
        return out;
    }

    /** Number of scored tokens (the loss normaliser of this micro-batch). */
    public long scoredTokens() {
        long n = 0;
        for (int target : shiftedTargets()) {
            if (target != CrossEntropy.IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }
}
