package org.lora4j.inference.server;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.stream.Collectors;
import org.lora4j.adapters.lora.LoraWeights;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.generate.FinishReason;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.Generator;
import org.lora4j.inference.model.ForwardContext;

/**
 * Runs generation jobs on {@code maxConcurrency} worker threads that share the base weights (ND4J ops on separate
 * arrays are thread-safe; each batch has its own KV cache). A free worker takes the oldest waiting job plus the
 * other waiting jobs over the same base weights — the base itself and every adapter applied unmerged on it — up to
 * {@code maxBatch}, and decodes them as one left-padded batch: each row with its own adapter (or none), settings and
 * seed, so a row gets exactly the tokens it would get alone (multi-LoRA batching as in Punica, S-LoRA and vLLM; see
 * {@link ForwardContext#perRow}). A model merged into its weights ({@code --merge}) is only batched with itself.
 *
 * <p>Admission: a job is refused ({@link JobRejectedException.Reason#QUEUE_FULL}) when more than {@code maxQueue}
 * jobs would wait for a worker. {@link #shutdown()} refuses new jobs and lets waiting and running ones finish.
 */
public final class Scheduler implements AutoCloseable {

    /**
     * @param maxConcurrency worker threads, i.e. batches decoded at the same time
     * @param maxQueue       jobs that may wait for a worker; more are refused (HTTP 429)
     * @param maxBatch       rows one worker decodes together
     */
    public record Options(int maxConcurrency, int maxQueue, int maxBatch) {
        public static final Options DEFAULT = new Options(4, 64, 8);

        public Options {
            if (maxConcurrency < 1) {
                throw new IllegalArgumentException("--max-concurrency must be >= 1, found " + maxConcurrency);
            }
            if (maxQueue < 0) {
                throw new IllegalArgumentException("--max-queue must be >= 0, found " + maxQueue);
            }
            if (maxBatch < 1) {
                throw new IllegalArgumentException("--max-batch must be >= 1, found " + maxBatch);
            }
        }
    }

    /**
     * A snapshot for {@code GET /health} and tests.
     *
     * @param batches      batches started so far (a job alone is a batch of one)
     * @param largestBatch the most jobs one batch has held
     * @param mixedBatches batches that held jobs for more than one served model (several adapters, or adapters and
     *                     the base) and so decoded with one adapter per row
     */
    public record Stats(int workers, int busyWorkers, int running, int queued, long completed, long cancelled,
                        long rejected, long batches, int largestBatch, long mixedBatches) {
    }

    private final Options options;
    private final Function<int[], String> detokenizer;
    private final List<Thread> workers = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Job> pending = new ArrayDeque<>(); // guarded by lock
    private int busy;                                           // guarded by lock
    private int running;                                        // guarded by lock
    private boolean accepting = true;                           // guarded by lock
    private long rejected;                                      // guarded by lock
    private long batches;                                       // guarded by lock
    private int largestBatch;                                   // guarded by lock
    private long mixedBatches;                                  // guarded by lock
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong cancelled = new AtomicLong();

    /** @param detokenizer ids → text for stop strings and results; null for a model without tokenizer */
    public Scheduler(Options options, Function<int[], String> detokenizer) {
        this.options = options;
        this.detokenizer = detokenizer;
        for (int i = 0; i < options.maxConcurrency(); i++) {
            Thread t = new Thread(this::work, "lora4j-worker-" + i);
            t.setDaemon(true);
            workers.add(t);
        }
        workers.forEach(Thread::start);
    }

    public Options options() {
        return options;
    }

    /**
     * Queues a job; {@code onToken} (may be null) is called on a worker thread with each accepted token.
     *
     * @throws JobRejectedException when the wait queue is full or the scheduler is shutting down
     */
    public Job submit(ServedModel model, int[] prompt, GenerationConfig config, IntConsumer onToken) {
        Job job = new Job(model, prompt, config, onToken);
        lock.lock();
        try {
            if (!accepting) {
                throw new JobRejectedException(JobRejectedException.Reason.SHUTTING_DOWN,
                        "the server is shutting down and accepts no new requests");
            }
            int idle = workers.size() - busy;
            if (pending.size() >= options.maxQueue() + idle) {
                rejected++;
                throw new JobRejectedException(JobRejectedException.Reason.QUEUE_FULL, "all "
                        + workers.size() + " workers are busy and " + pending.size() + " requests already wait "
                        + "(--max-queue " + options.maxQueue() + "); retry later");
            }
            pending.add(job);
            job.onCancel(() -> dropIfWaiting(job));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return job;
    }

    public Stats stats() {
        lock.lock();
        try {
            return new Stats(workers.size(), busy, running, pending.size(), completed.get(), cancelled.get(),
                    rejected, batches, largestBatch, mixedBatches);
        } finally {
            lock.unlock();
        }
    }

    /** Refuses new jobs; waiting and running jobs still finish. */
    public void shutdown() {
        lock.lock();
        try {
            accepting = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until every worker has finished its last job; false if {@code timeout} passed first. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : workers) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedJoin(t, left);
            if (t.isAlive()) {
                return false;
            }
        }
        return true;
    }

    /** {@link #shutdown()}, then waits for the running jobs. */
    @Override
    public void close() {
        shutdown();
        try {
            awaitTermination(Duration.ofDays(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void dropIfWaiting(Job job) {
        boolean removed;
        lock.lock();
        try {
            removed = pending.remove(job);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (removed) {
            cancelled.incrementAndGet();
            job.finish(new Generation(job.promptRef(), new int[0], detokenizer == null ? null : "",
                    FinishReason.CANCELLED));
        }
    }

    private void work() {
        while (true) {
            List<Job> batch = new ArrayList<>();
            lock.lock();
            try {
                while (pending.isEmpty()) {
                    if (!accepting) {
                        return;
                    }
                    changed.awaitUninterruptibly();
                }
                Job first = pending.poll();
                batch.add(first);
                for (Iterator<Job> it = pending.iterator(); it.hasNext() && batch.size() < options.maxBatch(); ) {
                    Job j = it.next();
                    if (sharesBase(j.model(), first.model())) {
                        it.remove();
                        batch.add(j);
                    }
                }
                batch = groupedByModel(batch);
                busy++;
                running += batch.size();
                batches++;
                largestBatch = Math.max(largestBatch, batch.size());
                if (batch.get(0).model() != batch.get(batch.size() - 1).model()) {
                    mixedBatches++;
                }
            } finally {
                lock.unlock();
            }
            try {
                run(batch);
            } finally {
                lock.lock();
                try {
                    busy--;
                    running -= batch.size();
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** True when jobs for {@code a} and {@code b} can share a batch: the same base weights, each row its adapter. */
    private static boolean sharesBase(ServedModel a, ServedModel b) {
        if (a == b) {
            return true;
        }
        return a.kind() != ServedModel.Kind.MERGED && b.kind() != ServedModel.Kind.MERGED
                && a.model().decoder() == b.model().decoder();
    }

    /** The batch with each model's jobs next to each other (oldest model first), so each adapter is one GEMM pair. */
    private static List<Job> groupedByModel(List<Job> batch) {
        Map<ServedModel, List<Job>> byModel = new LinkedHashMap<>();
        for (Job j : batch) {
            byModel.computeIfAbsent(j.model(), m -> new ArrayList<>()).add(j);
        }
        List<Job> out = new ArrayList<>(batch.size());
        byModel.values().forEach(out::addAll);
        return out;
    }

    /** Decodes one batch of jobs over one base: one forward context for a single model, else one adapter per row. */
    private void run(List<Job> batch) {
        LanguageModel lm = batch.get(0).model().model();
        List<Generator.Request> rows = new ArrayList<>(batch.size());
        List<Function<String, LoraWeights>> rowAdapters = new ArrayList<>(batch.size());
        for (Job j : batch) {
            rows.add(new Generator.Request(j.promptRef(), j.config()));
            rowAdapters.add(j.model().model().forwardContext().lora());
        }
        boolean oneModel = batch.stream().allMatch(j -> j.model() == batch.get(0).model());
        ForwardContext ctx = oneModel ? lm.forwardContext() : ForwardContext.perRow(rowAdapters);
        try {
            new Generator(lm.decoder(), ctx).generate(rows, detokenizer, new Generator.TokenListener() {
                @Override
                public void onToken(int row, int tokenId) {
                    Job j = batch.get(row);
                    try {
                        j.token(tokenId);
                    } catch (RuntimeException e) {
                        j.cancel(); // a consumer that throws is gone; the other rows go on
                    }
                }

                @Override
                public void onFinish(int row, Generation generation) {
                    (generation.finishReason() == FinishReason.CANCELLED ? cancelled : completed).incrementAndGet();
                    batch.get(row).finish(generation);
                }

                @Override
                public boolean cancelled(int row) {
                    return batch.get(row).isCancelled();
                }
            });
        } catch (RuntimeException | Error e) {
            // the worker survives: each job of the batch is answered with the failure (rows already done keep theirs)
            System.err.println("error: a batch of " + batch.size() + " for '" + batch.stream().map(j -> j.model().id())
                    .distinct().collect(Collectors.joining("', '")) + "' failed: " + e);
            for (Job j : batch) {
                j.fail(e);
            }
        }
    }
}
