package org.lora4j.trainer.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.lora4j.data.batch.Batch;
import org.lora4j.data.batch.Sequence;
import org.lora4j.inference.model.TrainingBatch;

/**
 * Draws batches of training rows in a seeded order that is reshuffled every epoch, padded to the longest row of
 * the batch. Its position (epoch, rows taken in that epoch) is all a resumed run needs to continue with the same
 * batches.
 */
public final class BatchSampler {
    private final List<Sequence> rows;
    private final int batchSize;
    private final long seed;
    private final int padId;
    private long epoch;
    private long taken;
    private List<Integer> order;

    public BatchSampler(List<Sequence> rows, int batchSize, long seed, int padId) {
        if (rows.size() < batchSize) {
            throw new IllegalArgumentException("the training data holds " + rows.size() + " rows, fewer than one batch "
                    + "of training.batch_size=" + batchSize + "; lower the batch size or add data");
        }
        this.rows = List.copyOf(rows);
        this.batchSize = batchSize;
        this.seed = seed;
        this.padId = padId;
        seek(0, 0);
    }

    /** Continues at {@code taken} rows into {@code epoch}. */
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
        return rows.size() / batchSize;
    }

    public TrainingBatch next() {
        if (taken + batchSize > rows.size()) {
            seek(epoch + 1, 0);
        }
        List<Sequence> batch = new ArrayList<>(batchSize);
        for (int b = 0; b < batchSize; b++) {
            batch.add(rows.get(order.get((int) taken + b)));
        }
        taken += batchSize;
        return Batches.toTraining(Batch.of(batch, padId));
    }

    private List<Integer> orderOf(long e) {
        List<Integer> o = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            o.add(i);
        }
        Collections.shuffle(o, new Random(seed * 31 + e));
        return o;
    }
}
