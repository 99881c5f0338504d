package org.lora4j.data.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reads Arrow files written by another implementation (apache-arrow for JavaScript, 21.2.0;
 * scripts/arrow-fixtures/make-fixtures.mjs): stream and file format, Feather V2, a replaced dictionary between
 * batches, and a save_to_disk-style folder with large_string / large_list columns.
 */
class ForeignArrowTest {

    @ParameterizedTest
    @ValueSource(strings = {"js-stream.arrow", "js-file.arrow", "js-file.feather", "js-stream-dictionary-replaced.arrow", "js-hf"})
    void readsEveryValueTheJavaScriptWriterWrote(String name) throws Exception {
        List<Map<String, Object>> expected = Fixtures.jsExpected();
        try (Dataset ds = Dataset.open(Fixtures.resource(name))) {
            assertEquals(List.of("text", "messages", "score", "n", "flag", "ids", "label"), ds.columns());
            assertEquals(5, ds.numRows());
            List<Row> rows = Fixtures.readAll(ds);
            assertEquals(expected, Fixtures.values(rows));
            for (int i = 0; i < rows.size(); i++) {
                assertEquals(i, rows.get(i).index());
            }
            ds.requireColumn("messages", ColumnType.LIST_OF_STRUCT);
            ds.requireColumn("text", ColumnType.STRING);
            ds.requireColumn("ids", ColumnType.LIST_OF_INT);
            ds.requireColumn("label", ColumnType.STRING);
            ds.requireColumn("score", ColumnType.FLOAT);
            ds.requireColumn("n", ColumnType.INT);
            ds.requireColumn("flag", ColumnType.BOOL);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"js-stream.arrow", "js-file.arrow", "js-stream-dictionary-replaced.arrow", "js-hf"})
    void shuffledReadsReturnEveryRowOnceAndDecodeTheRightDictionary(String name) throws Exception {
        List<Map<String, Object>> expected = Fixtures.jsExpected();
        try (Dataset ds = Dataset.open(Fixtures.resource(name))) {
            // window 1: batches are read in shuffled order, one at a time, so the replaced dictionary is reloaded
            for (long seed = 0; seed < 6; seed++) {
                List<Row> rows = Fixtures.readAll(ds, seed, 1);
                assertEquals(5, rows.size());
                for (Row r : rows) {
                    assertEquals(expected.get((int) r.index()), r.values(), "row " + r.index() + " seed " + seed);
                }
                List<Row> sorted = rows.stream().sorted(Comparator.comparingLong(Row::index)).toList();
                assertEquals(expected, Fixtures.values(sorted));
            }
        }
    }

    @org.junit.jupiter.api.Test
    void theReplacedDictionaryFixtureReallyReplacesItsDictionary() {
        IpcIndex replaced = IpcIndex.read(Fixtures.resource("js-stream-dictionary-replaced.arrow"));
        assertEquals(2, replaced.batches().size());
        assertNotEquals(replaced.batches().get(0).dictionaryState(), replaced.batches().get(1).dictionaryState());
        IpcIndex shared = IpcIndex.read(Fixtures.resource("js-stream.arrow"));
        assertEquals(shared.batches().get(0).dictionaryState(), shared.batches().get(1).dictionaryState());
        assertEquals(List.of(3, 2), shared.batches().stream().map(IpcIndex.Batch::rows).toList());
    }

    @ParameterizedTest
    @ValueSource(strings = {"js-stream.arrow", "js-hf"})
    void describesTheSchemaInPyarrowSpelling(String name) {
        try (Dataset ds = Dataset.open(Fixtures.resource(name))) {
            boolean large = name.equals("js-hf");
            String expected = String.join("\n",
                    "text: " + (large ? "large_string" : "string"),
                    "messages: " + (large ? "large_list" : "list") + "<struct<role: string, content: string>>",
                    "score: float64", "n: int64", "flag: bool", "ids: list<int32>", "label: dictionary<string>");
            assertEquals(expected, ds.describeSchema());
            assertEquals(large ? "save_to_disk" : "arrow stream", ds.format());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"js-file.arrow", "js-file.feather"})
    void fileFormatIsDetectedByItsMagic(String name) {
        try (Dataset ds = Dataset.open(Fixtures.resource(name))) {
            assertEquals("arrow file", ds.format());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"js-stream.arrow"})
    void rowAccessorsGiveTypedValues(String name) {
        try (Dataset ds = Dataset.open(Fixtures.resource(name)); CloseableIterator<Row> it = ds.rows()) {
            Row r = it.next();
            assertEquals("Hello", r.string("text"));
            assertEquals(List.of(Map.of("role", "user", "content", "Hi"), Map.of("role", "assistant", "content", "Hello!")),
                    r.structList("messages"));
            assertEquals(1L, r.integer("n"));
            assertEquals(0.5, r.number("score"));
            assertEquals(true, r.bool("flag"));
            assertEquals("1", r.text("n"));
            assertTrue(java.util.Arrays.equals(new int[] {1, 2, 3}, r.intArray("ids")));
            DatasetException e = org.junit.jupiter.api.Assertions.assertThrows(DatasetException.class, () -> r.string("n"));
            assertTrue(e.getMessage().contains("column 'n'") && e.getMessage().contains("expected a string"), e.getMessage());
            assertNotEquals(null, r.get("label"));
        }
    }
}
