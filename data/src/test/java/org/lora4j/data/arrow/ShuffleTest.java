package org.lora4j.data.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seeded shuffles over record batches and windows of rows. */
class ShuffleTest {
    @TempDir
    Path dir;
    Path data;

    @BeforeEach
    void writeThreeShards() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (long i = 0; i < 10_500; i++) {
            rows.add(Map.of("id", i, "text", "row " + i));
        }
        data = dir.resolve("ds");
        DatasetWriter.saveToDisk(data, DatasetWriter.inferSchema(rows.subList(0, 1)), rows.iterator(), 60_000);
    }

    private static List<Long> ids(List<Row> rows) {
        for (Row r : rows) {
            assertEquals(r.index(), r.integer("id"), "a row's index is its position in storage order");
            assertEquals("row " + r.index(), r.string("text"));
        }
        return rows.stream().map(Row::index).toList();
    }

    @Test
    void sameSeedSameOrderOtherSeedOtherOrderAlwaysAPermutation() {
        try (Dataset ds = Dataset.open(data)) {
            assertTrue(ds.files().size() >= 3, "want several shards, got " + ds.files());
            List<Long> a = ids(Fixtures.readAll(ds, 1, 2500));
            List<Long> b = ids(Fixtures.readAll(ds, 1, 2500));
            List<Long> c = ids(Fixtures.readAll(ds, 2, 2500));
            assertEquals(a, b);
            assertNotEquals(a, c);
            List<Long> all = LongStream.range(0, 10_500).boxed().toList();
            for (List<Long> order : List.of(a, c)) {
                assertEquals(all, order.stream().sorted().toList());
                assertNotEquals(all, order);
            }
        }
    }

    @Test
    void batchesAreVisitedInShuffledOrderAndRowsMixWithinAWindow() {
        try (Dataset ds = Dataset.open(data)) {
            // window 1: one batch at a time, so each run of 1000 rows comes from one batch, shuffled inside it
            List<Long> order = ids(Fixtures.readAll(ds, 3, 1));
            List<Long> firstOfEachBatch = new ArrayList<>();
            for (int start = 0; start < order.size(); ) {
                long batch = order.get(start) / 1000;
                int size = batch == 10 ? 500 : 1000;
                List<Long> run = order.subList(start, start + size);
                assertTrue(run.stream().allMatch(i -> i / 1000 == batch), "a window of 1 mixes batches");
                assertNotEquals(run.stream().sorted().toList(), run, "rows inside a batch are shuffled");
                firstOfEachBatch.add(batch);
                start += size;
            }
            assertNotEquals(LongStream.range(0, 11).boxed().toList(), firstOfEachBatch, "batch order is shuffled");

            // a window of several batches mixes rows across them
            List<Long> wide = ids(Fixtures.readAll(ds, 3, 4000));
            assertTrue(wide.subList(0, 4000).stream().map(i -> i / 1000).distinct().count() >= 4);
        }
    }

    @Test
    void closingTheDatasetClosesItsIteratorsAndReleasesArrowMemory() {
        long before = Allocators.allocatedBytes();
        Dataset ds = Dataset.open(data);
        CloseableIterator<Row> a = ds.rows();
        CloseableIterator<Row> b = ds.rows(9);
        a.next();
        b.next();
        assertTrue(Allocators.allocatedBytes() > before, "a loaded batch holds Arrow memory");
        ds.close();
        assertEquals(before, Allocators.allocatedBytes());
        assertTrue(!a.hasNext() && !b.hasNext());
    }
}
