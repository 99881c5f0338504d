package org.lora4j.inference.server;

/** The scheduler refused a job: its wait queue is full, or it is shutting down. */
public final class JobRejectedException extends RuntimeException {
    /** Why a job was refused. */
    public enum Reason {
        QUEUE_FULL,
        SHUTTING_DOWN
    }

    private final Reason reason;

    public JobRejectedException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
