package org.lora4j.inference.server;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.IntConsumer;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;

/**
 * One generation request inside the {@link Scheduler}: a prompt for one served model with its own settings, its
 * tokens streamed to {@code onToken} as they are accepted, its result in {@link #result()}. {@link #cancel()}
 * ends it early (a client that went away): a waiting job leaves the queue, a running one stops at the next step
 * with {@code finish_reason = cancelled}, and its batch-mates go on unchanged.
 */
public final class Job {
    private final ServedModel model;
    private final int[] prompt;
    private final GenerationConfig config;
    private final IntConsumer onToken;
    private final CompletableFuture<Generation> result = new CompletableFuture<>();
    private volatile boolean cancelled;
    private volatile Runnable onCancel = () -> { };

    Job(ServedModel model, int[] prompt, GenerationConfig config, IntConsumer onToken) {
        this.model = model;
        this.prompt = prompt.clone();
        this.config = config;
        this.onToken = onToken;
    }

    public ServedModel model() {
        return model;
    }

    public int[] prompt() {
        return prompt.clone();
    }

    int[] promptRef() {
        return prompt;
    }

    public GenerationConfig config() {
        return config;
    }

    /** Completes with the generation (also after a cancel), or exceptionally when the runtime failed. */
    public CompletableFuture<Generation> result() {
        return result;
    }

    /** Waits for the result; a runtime failure is rethrown unwrapped. */
    public Generation await() {
        try {
            return result.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /** Ends the job early; idempotent. */
    public void cancel() {
        if (!cancelled) {
            cancelled = true;
            onCancel.run();
        }
    }

    public boolean isCancelled() {
        return cancelled;
    }

    void onCancel(Runnable r) {
        this.onCancel = r;
    }

    void token(int id) {
        if (onToken != null) {
            onToken.accept(id);
        }
    }

    void finish(Generation g) {
        result.complete(g);
    }

    void fail(Throwable t) {
        result.completeExceptionally(t);
    }
}
