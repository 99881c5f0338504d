package org.lora4j.data.arrow;

import java.nio.file.Path;
import java.util.BitSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Run in a child JVM with a small heap by {@link LargerThanHeapTest}:
 * {@code write <dir> <rows>} writes a save_to_disk dataset of {@code rows} rows of about 1 KB each;
 * {@code read <dir> <rows>} reads it in order and shuffled, checking every value, and prints what it saw.
 */
public final class LargeDatasetMain {
    static final int TEXT_CHARS = 1000;

    private LargeDatasetMain() {}

    /** Row i's text: 1000 pseudo-random letters, a function of i alone. */
    static String text(long i) {
        SplittableRandom rnd = new SplittableRandom(i * 0x9E3779B97F4A7C15L + 17);
        char[] c = new char[TEXT_CHARS];
        for (int k = 0; k < c.length; k++) {
            c[k] = (char) ('a' + rnd.nextInt(26));
        }
        return new String(c);
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[1]);
        long rows = Long.parseLong(args[2]);
        if (args[0].equals("write")) {
            write(dir, rows);
        } else {
            read(dir, rows);
        }
        System.out.println("peakArrowBytes=" + Allocators.peakBytes() + " maxHeapBytes=" + Runtime.getRuntime().maxMemory());
    }

    private static void write(Path dir, long rows) {
        List<Map<String, Object>> sample = List.of(Map.of("id", 0L, "text", ""));
        Iterator<Map<String, Object>> generated = new Iterator<>() {
            long next;

            @Override
            public boolean hasNext() {
                return next < rows;
            }

            @Override
            public Map<String, Object> next() {
                if (next == rows) {
                    throw new NoSuchElementException();
                }
                long i = next++;
                return Map.of("id", i, "text", text(i));
            }
        };
        long n = DatasetWriter.saveToDisk(dir, DatasetWriter.inferSchema(sample), generated, 128L << 20);
        System.out.println("written=" + n);
    }

    private static void read(Path dir, long rows) {
        try (Dataset ds = Dataset.open(dir)) {
            check(ds.numRows() == rows, "numRows " + ds.numRows());
            long n = 0;
            try (CloseableIterator<Row> it = ds.rows()) {
                while (it.hasNext()) {
                    Row r = it.next();
                    check(r.index() == n && r.integer("id") == n && r.string("text").equals(text(n)), "row " + n);
                    n++;
                }
            }
            check(n == rows, "read " + n + " rows in order");
            BitSet seen = new BitSet();
            long outOfOrder = 0;
            long previous = -1;
            try (CloseableIterator<Row> it = ds.rows(1234)) {
                while (it.hasNext()) {
                    Row r = it.next();
                    long i = r.integer("id");
                    check(r.index() == i && !seen.get((int) i) && r.string("text").equals(text(i)), "shuffled row " + i);
                    seen.set((int) i);
                    outOfOrder += i != previous + 1 ? 1 : 0;
                    previous = i;
                }
            }
            check(seen.cardinality() == rows, "shuffled read saw " + seen.cardinality() + " rows");
            check(outOfOrder > rows / 2, "shuffled read is mostly in order");
            System.out.println("sequential=" + n + " shuffled=" + seen.cardinality() + " shards=" + ds.files().size());
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("check failed: " + what);
        }
    }
}
