package org.lora4j.trainer.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.Pointer;

/**
 * Peak memory of a benchmark phase: resident set (the kernel's high-water mark VmHWM, reset through
 * {@code /proc/self/clear_refs} at the start), Java heap in use, and native memory outside the heap — ND4J keeps
 * every array in native memory that JavaCPP's {@code Pointer.totalBytes()} does not count, so native use is taken
 * as RSS − committed heap. Heap and native are sampled every {@code periodMillis} by a daemon thread.
 */
public final class MemoryProbe implements AutoCloseable {

    /**
     * Peaks of one phase, in bytes; {@code hwmReset} says whether VmHWM was reset at its start; {@code gcCount} and
     * {@code gcMillis} are the collections during the phase (ND4J's native buffers are freed only after one).
     */
    public record Peak(long rss, long heapUsed, long heapCommitted, long nativeOutsideHeap, boolean hwmReset,
                       long gcCount, long gcMillis) {
    }

    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();
    private final Thread sampler;
    private final boolean hwmReset;
    private volatile boolean running = true;
    private long maxRss;
    private long maxHeapUsed;
    private long maxHeapCommitted;
    private long maxNative;
    private final long gcCount0;
    private final long gcMillis0;

    private MemoryProbe(long periodMillis) {
        hwmReset = resetPeakRss();
        gcCount0 = gcCount();
        gcMillis0 = gcMillis();
        sample();
        sampler = new Thread(() -> {
            while (running) {
                sample();
                try {
                    Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "lora4j-memory-probe");
        sampler.setDaemon(true);
        sampler.start();
    }

    /** Starts sampling now. */
    public static MemoryProbe start(long periodMillis) {
        return new MemoryProbe(periodMillis);
    }

    private synchronized void sample() {
        long rss = Pointer.physicalBytes();
        long used = MEMORY.getHeapMemoryUsage().getUsed();
        long committed = MEMORY.getHeapMemoryUsage().getCommitted();
        maxRss = Math.max(maxRss, rss);
        maxHeapUsed = Math.max(maxHeapUsed, used);
        maxHeapCommitted = Math.max(maxHeapCommitted, committed);
        maxNative = Math.max(maxNative, rss - committed);
    }

    /** Stops sampling and returns the peaks (RSS: the larger of VmHWM and the sampled maximum). */
    public Peak stop() {
        running = false;
        sampler.interrupt();
        try {
            sampler.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sample();
        synchronized (this) {
            long hwm = hwmReset ? statusKb("VmHWM") * 1024 : 0;
            return new Peak(Math.max(maxRss, hwm), maxHeapUsed, maxHeapCommitted, maxNative, hwmReset,
                    gcCount() - gcCount0, gcMillis() - gcMillis0);
        }
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }

    private static long gcCount() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(b -> Math.max(0, b.getCollectionCount())).sum();
    }

    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(b -> Math.max(0, b.getCollectionTime())).sum();
    }

    /** Current resident set size in bytes. */
    public static long rss() {
        return statusKb("VmRSS") * 1024;
    }

    /** A {@code kB} field of {@code /proc/self/status}, or 0 where there is no /proc (not Linux). */
    static long statusKb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    /** Resets VmHWM to the current RSS (Linux ≥ 4.0: writing 5 to clear_refs); false where that is not possible. */
    static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            return false;
        }
    }
}
