package org.lora4j.trainer.recipe;

/**
 * {@code training:} how long and in what batches.
 *
 * @param maxSteps                  optimizer steps to run; 0 = as many as {@code epochs} passes over the data take
 * @param batchSize                 sequences per micro-batch
 * @param gradientAccumulationSteps micro-batches per optimizer step
 * @param evalEvery                 evaluate every this many optimizer steps; 0 = only at the end
 * @param evalBatches               validation batches per evaluation; 0 = the whole validation set
 */
public record TrainingSection(long maxSteps, int epochs, int batchSize, int gradientAccumulationSteps, long seed,
                              long evalEvery, int evalBatches) {

    public static final TrainingSection DEFAULT = new TrainingSection(0, 1, 4, 1, 42, 0, 0);

    public TrainingSection {
        Require.atLeast("training.max_steps", maxSteps, 0);
        Require.atLeast("training.epochs", epochs, 1);
        Require.atLeast("training.batch_size", batchSize, 1);
        Require.atLeast("training.gradient_accumulation_steps", gradientAccumulationSteps, 1);
        Require.atLeast("training.eval_every", evalEvery, 0);
        Require.atLeast("training.eval_batches", evalBatches, 0);
    }
}
