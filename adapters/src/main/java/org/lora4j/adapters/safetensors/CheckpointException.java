package org.lora4j.adapters.safetensors;

/**
 * A checkpoint file or folder that cannot be read or written. The message says what went wrong, in which file and
 * tensor, what was expected, what was found, and how to fix it.
 */
public class CheckpointException extends RuntimeException {

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
