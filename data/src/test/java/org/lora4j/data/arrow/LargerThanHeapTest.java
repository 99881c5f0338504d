package org.lora4j.data.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ~300 MB dataset written and read (in order and shuffled) by child JVMs whose heap is 64 MB: nothing may
 * hold the dataset in memory, neither on the heap nor in Arrow's off-heap buffers.
 */
class LargerThanHeapTest {
    private static final long ROWS = 300_000;
    private static final String HEAP = "-Xmx64m";

    @TempDir
    Path dir;

    @Test
    void writesAndReadsADatasetFiveTimesLargerThanTheHeap() throws Exception {
        Path data = dir.resolve("large");
        String written = runChild("write", data);
        assertTrue(written.contains("written=" + ROWS), written);

        long bytes;
        try (Stream<Path> files = Files.list(data)) {
            bytes = files.mapToLong(p -> p.toFile().length()).sum();
        }
        long heap = maxHeap(written);
        assertTrue(bytes > 280L << 20, "dataset is only " + bytes + " bytes");
        assertTrue(bytes > 4 * heap, "dataset (" + bytes + " B) must dwarf the child's heap (" + heap + " B)");
        assertTrue(peakArrow(written) < 64L << 20, "writer held too much Arrow memory: " + written);

        String read = runChild("read", data);
        assertTrue(read.contains("sequential=" + ROWS + " shuffled=" + ROWS + " shards=3"), read);
        assertTrue(peakArrow(read) < 64L << 20, "reader held too much Arrow memory: " + read);
    }

    private static long peakArrow(String out) {
        return number(out, "peakArrowBytes=(\\d+)");
    }

    private static long maxHeap(String out) {
        return number(out, "maxHeapBytes=(\\d+)");
    }

    private static long number(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        assertTrue(m.find(), "no " + regex + " in: " + out);
        return Long.parseLong(m.group(1));
    }

    private String runChild(String mode, Path data) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = dir.resolve(mode + ".log");
        Process p = new ProcessBuilder(List.of(java, HEAP, "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), LargeDatasetMain.class.getName(),
                mode, data.toString(), String.valueOf(ROWS)))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(mode + " child timed out; output:\n" + Files.readString(log));
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), mode + " child failed:\n" + out);
        return out;
    }
}
