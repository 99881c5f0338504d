package org.lora4j.data.arrow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizedCacheTest {
    @TempDir
    Path dir;

    private static List<int[][]> examples(int n, boolean positions, long seed) {
        Random rnd = new Random(seed);
        List<int[][]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = rnd.nextInt(300);
            int[] ids = rnd.ints(len, 0, 150_000).toArray();
            int[] labels = new int[len];
            for (int t = 0; t < len; t++) {
                labels[t] = t < len / 3 ? -100 : ids[t];
            }
            int[] pos = positions ? rnd.ints(len, 0, 4096).toArray() : null;
            out.add(new int[][] {ids, labels, pos});
        }
        return out;
    }

    private static List<int[][]> readAll(Path file) {
        List<int[][]> out = new ArrayList<>();
        try (CloseableIterator<int[][]> it = TokenizedCache.read(file)) {
            it.forEachRemaining(out::add);
        }
        return out;
    }

    @Test
    void roundTripsWithAndWithoutPositionIds() {
        for (boolean positions : new boolean[] {false, true}) {
            Path file = dir.resolve("cache-" + positions + ".arrow");
            List<int[][]> written = examples(2500, positions, 1);
            assertEquals(2500, TokenizedCache.write(file, written.iterator(), Map.of("tokenizer", "abc123")));
            assertEquals(2500, TokenizedCache.count(file));
            assertEquals("abc123", TokenizedCache.metadata(file).get("tokenizer"));
            List<int[][]> read = readAll(file);
            assertEquals(written.size(), read.size());
            for (int i = 0; i < read.size(); i++) {
                assertArrayEquals(written.get(i)[0], read.get(i)[0]);
                assertArrayEquals(written.get(i)[1], read.get(i)[1]);
                if (positions) {
                    assertArrayEquals(written.get(i)[2], read.get(i)[2]);
                } else {
                    assertNull(read.get(i)[2]);
                }
            }
            try (Dataset ds = Dataset.open(file)) { // a plain Arrow stream any reader can open
                assertEquals("input_ids: list<int32>\nlabels: list<int32>" + (positions ? "\nposition_ids: list<int32>" : ""),
                        ds.describeSchema());
                assertEquals(2500, ds.numRows());
            }
        }
    }

    @Test
    void emptyCacheHasTheSchemaAndNoExamples() {
        Path file = dir.resolve("empty.arrow");
        assertEquals(0, TokenizedCache.write(file, List.<int[][]>of().iterator()));
        assertEquals(0, TokenizedCache.count(file));
        assertTrue(readAll(file).isEmpty());
    }

    @Test
    void badExamplesFailAndLeaveTheOldCache() throws Exception {
        Path file = dir.resolve("cache.arrow");
        TokenizedCache.write(file, examples(10, false, 2).iterator());
        List<int[][]> bad = examples(3000, false, 3);
        bad.set(2100, new int[][] {{1, 2, 3}, {1, 2}, null});
        DatasetException e = assertThrows(DatasetException.class, () -> TokenizedCache.write(file, bad.iterator()));
        assertEquals(file + ": example 2100 has 3 input ids but 2 labels", e.getMessage());

        List<int[][]> mixed = examples(5, true, 4);
        mixed.get(3)[2] = null;
        e = assertThrows(DatasetException.class, () -> TokenizedCache.write(file, mixed.iterator()));
        assertTrue(e.getMessage().contains("example 3 has no position ids"), e.getMessage());

        Iterator<int[][]> failing = new Iterator<>() {
            int n;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public int[][] next() {
                if (++n > 2000) {
                    throw new IllegalStateException("tokenizer crashed");
                }
                return new int[][] {{1}, {1}, null};
            }
        };
        assertThrows(IllegalStateException.class, () -> TokenizedCache.write(file, failing));

        assertEquals(10, TokenizedCache.count(file), "the old cache survives failed writes");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("cache.arrow"), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void readsATokenizedHuggingFaceStyleDatasetAndRejectsOtherColumns() {
        Path out = dir.resolve("hf-tokenized");
        List<Map<String, Object>> rows = List.of(
                Map.of("input_ids", List.of(1L, 2L, 3L), "labels", List.of(-100L, 2L, 3L), "text", "x"));
        DatasetWriter.saveToDisk(out, DatasetWriter.inferSchema(rows), rows.iterator()); // list<int64> like HF's default
        List<int[][]> read = readAll(out.resolve("data-00000-of-00001.arrow"));
        assertArrayEquals(new int[] {1, 2, 3}, read.get(0)[0]);
        assertArrayEquals(new int[] {-100, 2, 3}, read.get(0)[1]);

        Path chat = dir.resolve("chat");
        List<Map<String, Object>> chatRows = DatasetWriterTest.chatRows(2);
        DatasetWriter.saveToDisk(chat, DatasetWriter.inferSchema(chatRows), chatRows.iterator());
        DatasetException e = assertThrows(DatasetException.class, () -> TokenizedCache.read(chat.resolve("data-00000-of-00001.arrow")));
        assertTrue(e.getMessage().contains("no column 'input_ids'") && e.getMessage().contains("rebuild the cache"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
