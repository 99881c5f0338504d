package org.lora4j.trainer.train;

/** The loss or the gradient norm became NaN or infinite: the run stops and keeps its last good checkpoint. */
public class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
