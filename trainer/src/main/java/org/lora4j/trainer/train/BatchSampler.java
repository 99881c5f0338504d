package org.lora4j.trainer.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.lora4j.inference.model.TrainingBatch;

/**
 * Draws batches from a list of equal-length sequences in a seeded order that is reshuffled every epoch. Its
 * position (epoch, examples taken in that epoch) is all a resumed run needs to continue with the same batches.
 */
public final class BatchSampler {
    private final List<int[]> sequences;
    private final int batchSize;
    private final long seed;
    private long epoch;
    private long taken;
    private List<Integer> order;

    public BatchSampler(List<int[]> sequences, int batchSize, long seed) {
        if (sequences.size() < batchSize) {
            throw new IllegalArgumentException("the training data holds " + sequences.size() + " sequences, fewer than "
                    + "one batch of training.batch_size=" + batchSize + "; lower the batch size or add data");
        }
        this.sequences = List.copyOf(sequences);
        this.batchSize = batchSize;
        this.seed = seed;
        seek(0, 0);
    }

    /** Continues at {@code taken} examples into {@code epoch}. */
    public void seek(long epoch, long taken) {
        this.epoch = epoch;
        this.taken = taken;
        this.order = orderOf(epoch);
    }

    public long epoch() {
        return epoch;
    }

    public long taken() {
        return taken;
    }

    /** Batches in one epoch (the last incomplete batch is dropped). */
    public long batchesPerEpoch() {
        return sequences.size() / batchSize;
    }

    public TrainingBatch next() {
        if (taken + batchSize > sequences.size()) {
            seek(epoch + 1, 0);
        }
        int[][] ids = new int[batchSize][];
        for (int b = 0; b < batchSize; b++) {
            ids[b] = sequences.get(order.get((int) taken + b));
        }
        taken += batchSize;
        return TrainingBatch.causal(ids);
    }

    private List<Integer> orderOf(long e) {
        List<Integer> o = new ArrayList<>();
        for (int i = 0; i < sequences.size(); i++) {
            o.add(i);
        }
        Collections.shuffle(o, new Random(seed * 31 + e));
        return o;
    }
}
