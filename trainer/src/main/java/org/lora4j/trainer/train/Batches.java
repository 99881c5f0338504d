package org.lora4j.trainer.train;

import org.lora4j.data.batch.Batch;
import org.lora4j.inference.model.AttentionMask;
import org.lora4j.inference.model.TrainingBatch;

/** Hands a data-module {@link Batch} to the runtime: padding and packed-example boundaries become the attention mask. */
public final class Batches {
    private Batches() {
    }

    public static TrainingBatch toTraining(Batch b) {
        return new TrainingBatch(b.inputIds(), b.labels(), b.positionIds(),
                new AttentionMask(b.valid(), b.segmentIds()));
    }
}
