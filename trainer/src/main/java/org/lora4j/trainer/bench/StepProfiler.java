package org.lora4j.trainer.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a training step's time goes, by sampling the benchmark thread with Java Flight Recorder (JDK 17's built-in
 * profiler; {@code jdk.ExecutionSample} for Java code, {@code jdk.NativeMethodSample} for threads inside native code
 * such as BLAS). Each sample is attributed to the innermost lora4j method on its stack (e.g. {@code Linear.forward},
 * {@code Attention.backward}) and classed as allocation (the running native method allocates a buffer: ND4J's
 * {@code allocateDataBuffer}, which also pays for the fresh pages), BLAS gemm (inside a gemm/mmul call), another
 * native ND4J op, or Java.
 * BLAS worker threads are native threads: their work shows up as the calling Java thread's wait in the gemm call.
 */
public final class StepProfiler {

    /** Samples attributed to one lora4j method, split by kind. */
    public record Row(String where, int samples, int gemm, int alloc, int nativeOther, int java) {
    }

    /** Samples whose innermost frame (the native method or Java method running) is {@code method}. */
    public record Leaf(String method, int samples) {
    }

    /**
     * All rows, most samples first; {@code samples} is the total over the profiled steps; {@code leaves} the
     * innermost frames (which native entry point, allocation or Java method was running), most samples first.
     */
    public record Profile(int samples, List<Row> rows, List<Leaf> leaves) {
        public static final Profile NONE = new Profile(0, List.of(), List.of());

        /** Sums of the kinds over all rows: gemm, allocation, other native, Java. */
        public int[] kinds() {
            int[] k = new int[4];
            for (Row r : rows) {
                k[0] += r.gemm();
                k[1] += r.alloc();
                k[2] += r.nativeOther();
                k[3] += r.java();
            }
            return k;
        }
    }

    private final Recording recording;
    private final long threadId;

    private StepProfiler(Recording r, long threadId) {
        this.recording = r;
        this.threadId = threadId;
    }

    /** Starts sampling the calling thread every {@code periodMillis}. */
    @SuppressWarnings("deprecation") // Thread.getId: threadId() is Java 19+
    public static StepProfiler start(int periodMillis) {
        Recording r = new Recording();
        r.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(periodMillis));
        r.enable("jdk.NativeMethodSample").withPeriod(Duration.ofMillis(periodMillis));
        r.setToDisk(true);
        r.start();
        return new StepProfiler(r, Thread.currentThread().getId());
    }

    /** Stops the recording and aggregates its samples of the starting thread. */
    public Profile stop() {
        recording.stop();
        Path file = null;
        try {
            file = Files.createTempFile("lora4j-bench", ".jfr");
            recording.dump(file);
            Map<String, int[]> byWhere = new LinkedHashMap<>();
            Map<String, int[]> byLeaf = new LinkedHashMap<>();
            int total = 0;
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                String type = e.getEventType().getName();
                boolean nativeSample = type.equals("jdk.NativeMethodSample");
                if (!nativeSample && !type.equals("jdk.ExecutionSample")) {
                    continue;
                }
                RecordedThread t = e.getThread("sampledThread");
                if (t == null || t.getJavaThreadId() != threadId || e.getStackTrace() == null) {
                    continue;
                }
                List<RecordedFrame> frames = e.getStackTrace().getFrames();
                if (!frames.isEmpty()) {
                    String cls = frames.get(0).getMethod().getType().getName();
                    byLeaf.computeIfAbsent(cls.substring(cls.lastIndexOf('.') + 1) + "."
                            + frames.get(0).getMethod().getName(), k -> new int[1])[0]++;
                }
                String where = "(outside lora4j)";
                boolean gemm = false;
                for (RecordedFrame f : frames) {
                    String cls = f.getMethod().getType().getName();
                    String m = f.getMethod().getName();
                    if (cls.startsWith("org.lora4j.")) {
                        where = cls.substring(cls.lastIndexOf('.') + 1) + "." + m;
                        break;
                    }
                    String lm = m.toLowerCase(java.util.Locale.ROOT);
                    gemm |= lm.contains("gemm") || lm.contains("mmul") || lm.contains("matmul");
                }
                boolean alloc = nativeSample && !frames.isEmpty()
                        && frames.get(0).getMethod().getName().toLowerCase(java.util.Locale.ROOT).contains("alloc");
                int kind = !nativeSample ? 3 : alloc ? 1 : gemm ? 0 : 2;
                byWhere.computeIfAbsent(where, k -> new int[4])[kind]++;
                total++;
            }
            List<Row> rows = new ArrayList<>();
            byWhere.forEach((w, k) -> rows.add(new Row(w, k[0] + k[1] + k[2] + k[3], k[0], k[1], k[2], k[3])));
            rows.sort(Comparator.comparingInt(Row::samples).reversed());
            List<Leaf> leaves = new ArrayList<>();
            byLeaf.forEach((m, k) -> leaves.add(new Leaf(m, k[0])));
            leaves.sort(Comparator.comparingInt(Leaf::samples).reversed());
            return new Profile(total, rows, leaves);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the profiling recording " + file, e);
        } finally {
            recording.close();
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temp file left behind is harmless
                }
            }
        }
    }
}
