package org.lora4j.inference.decode;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The fixed team of threads behind the decode step's parallel loops: the calling thread plus {@code n − 1} daemon
 * helpers. A loop over {@code [0, total)} gives each thread one contiguous region, which it works through front to
 * back in grains, so that every thread reads its weights as one sequential stream; a thread that is done steals
 * grains from the back of the others' regions, so a helper the OS schedules late (the machine is shared) only does
 * less instead of holding the loop up. (Handing out small chunks from one shared counter instead made the threads
 * jump between streams and share a cache line: 30 instead of 44 GB/s over the SmolLM2 weights on two cores.)
 * A decode step issues a few loops per layer, microseconds apart: helpers spin for {@link #SPIN_NANOS} after a loop
 * before they park, which keeps the hand-off near a microsecond during a step and frees the cores between steps.
 * ND4J and OpenBLAS are idle during a decode step, so the team has one thread per core and no more.
 * Loops of concurrent callers (server workers) take turns.
 */
final class DecodePool {
    /** The rows {@code [from, to)} of a parallel loop. */
    interface Body {
        void run(int from, int to);
    }

    /** Threads of the shared pool: {@code -Dlora4j.decode.threads=N}, default one per available processor. */
    static final String THREADS_PROPERTY = "lora4j.decode.threads";
    static final long SPIN_NANOS = 200_000;

    private static DecodePool shared;

    private final Helper[] helpers;
    private volatile Job job;

    DecodePool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("decode threads must be >= 1, found " + threads + " (-D"
                    + THREADS_PROPERTY + ")");
        }
        helpers = new Helper[threads - 1];
        for (int i = 0; i < helpers.length; i++) {
            helpers[i] = new Helper(i + 1);
            Thread t = new Thread(helpers[i], "lora4j-decode-" + (i + 1));
            t.setDaemon(true);
            helpers[i].thread = t;
            t.start();
        }
    }

    /** The process-wide pool, started on first use. */
    static synchronized DecodePool shared() {
        if (shared == null) {
            shared = new DecodePool(Integer.getInteger(THREADS_PROPERTY, Runtime.getRuntime().availableProcessors()));
        }
        return shared;
    }

    int threads() {
        return helpers.length + 1;
    }

    /**
     * Runs {@code body} over {@code [0, total)} in pieces of at most {@code grain} rows (the unit of stealing) and
     * returns when every row is done. A failure in any piece is rethrown here, after the loop.
     */
    synchronized void run(int total, int grain, Body body) {
        if (total <= 0) {
            return;
        }
        if (helpers.length == 0 || total <= grain) {
            body.run(0, total);
            return;
        }
        Job j = new Job(total, Math.max(1, grain), threads(), body);
        job = j;
        for (Helper h : helpers) {
            if (h.parked) {
                LockSupport.unpark(h.thread);
            }
        }
        j.work(0);
        j.awaitDone();
        job = null;
        if (j.failure != null) {
            if (j.failure instanceof RuntimeException e) {
                throw e;
            }
            if (j.failure instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException("a decode thread failed", j.failure);
        }
    }

    private static final class Job {
        /** Longs between two regions' states: one cache line (and then some) each. */
        private static final int PAD = 16;

        final int total;
        final int grain;
        final int workers;
        final Body body;
        /** Region w's remaining rows {@code [front, back)}, packed as {@code front << 32 | back}. */
        final AtomicLongArray regions;
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(int total, int grain, int workers, Body body) {
            this.total = total;
            this.grain = grain;
            this.workers = workers;
            this.body = body;
            regions = new AtomicLongArray(workers * PAD);
            for (int w = 0; w < workers; w++) {
                long from = (long) total * w / workers;
                long to = (long) total * (w + 1) / workers;
                regions.set(w * PAD, from << 32 | to);
            }
        }

        /** Worker {@code w}: its own region from the front, then the others' from the back. */
        void work(int w) {
            int rows = 0;
            long piece;
            while ((piece = take(w, true)) >= 0) {
                rows += run(piece);
            }
            for (int k = 1; k < workers; k++) {
                int victim = (w + k) % workers;
                while ((piece = take(victim, false)) >= 0) {
                    rows += run(piece);
                }
            }
            done.addAndGet(rows);
        }

        private int run(long piece) {
            int from = (int) (piece >>> 32);
            int to = (int) piece;
            try {
                body.run(from, to);
            } catch (Throwable t) {
                failure = t;
            }
            return to - from;
        }

        /** Takes up to {@code grain} rows off the front (or back) of region {@code r}: {@code from << 32 | to}, or −1. */
        private long take(int r, boolean front) {
            while (true) {
                long s = regions.get(r * PAD);
                int f = (int) (s >>> 32);
                int b = (int) s;
                if (f >= b) {
                    return -1;
                }
                int from = front ? f : Math.max(f, b - grain);
                int to = front ? Math.min(b, f + grain) : b;
                long next = front ? (long) to << 32 | b : (long) f << 32 | from;
                if (regions.compareAndSet(r * PAD, s, next)) {
                    return (long) from << 32 | to;
                }
            }
        }

        /** The caller has no rows left to take: wait for the pieces the helpers hold (at most one each). */
        void awaitDone() {
            long spins = 0;
            while (done.get() < total) {
                if (++spins < 20_000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield(); // a helper was descheduled mid-piece
                }
            }
        }
    }

    private final class Helper implements Runnable {
        final int worker;
        Thread thread;
        volatile boolean parked;

        Helper(int worker) {
            this.worker = worker;
        }

        @Override
        public void run() {
            Job seen = null;
            long idleSince = System.nanoTime();
            while (true) {
                Job j = job;
                if (j != null && j != seen) {
                    seen = j;
                    j.work(worker);
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    seen = null; // let the finished job (and what its body holds) be collected
                    parked = true;
                    if (job == null) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
