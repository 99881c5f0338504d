package org.lora4j.data.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One clear error per problem, naming the file and, where there is one, the column and the row. */
class DatasetErrorsTest {
    @TempDir
    Path dir;

    private static void assertMentions(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
        }
    }

    private Path chatDataset() {
        Path out = dir.resolve("chat");
        List<Map<String, Object>> rows = DatasetWriterTest.chatRows(20);
        DatasetWriter.saveToDisk(out, DatasetWriter.inferSchema(rows), rows.iterator());
        return out;
    }

    @Test
    void missingColumnNamesFileColumnExpectationAndAvailableColumns() {
        Path ds = chatDataset();
        try (Dataset d = Dataset.open(ds)) {
            DatasetException e = assertThrows(DatasetException.class, () -> d.requireColumn("conversation", ColumnType.LIST_OF_STRUCT));
            assertEquals(ds + " (data-00000-of-00001.arrow): no column 'conversation'; expected a list of structs, e.g. "
                    + "list<struct<role: string, content: string>>; available columns: id (int64), text (string), "
                    + "messages (list<struct<role: string, content: string>>), ids (list<int64>), score (float64), "
                    + "ok (bool). Rename the column in the data or point the recipe at one of the available columns",
                    e.getMessage());
        }
    }

    @Test
    void wrongColumnTypeNamesFileColumnFoundAndExpected() {
        Path ds = chatDataset();
        try (Dataset d = Dataset.open(ds)) {
            DatasetException e = assertThrows(DatasetException.class, () -> d.requireColumn("text", ColumnType.LIST_OF_STRUCT));
            assertEquals(ds + " (data-00000-of-00001.arrow): column 'text' is string but expected a list of structs, e.g. "
                    + "list<struct<role: string, content: string>>. Convert the column or point the recipe at another one",
                    e.getMessage());
            assertMentions(assertThrows(DatasetException.class, () -> d.requireColumn("score", ColumnType.INT)),
                    "column 'score' is float64", "integer");
            d.requireColumn("id", ColumnType.FLOAT); // integers are numbers
            d.requireColumn("ids", ColumnType.ANY);
            assertEquals(ColumnType.LIST_OF_STRUCT, d.columnType("messages"));
            assertEquals(ColumnType.INT, d.columnType("id"));
        }
    }

    @Test
    void emptyDatasets() throws Exception {
        Path zero = Files.createFile(dir.resolve("zero.arrow"));
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(zero)), zero.toString(), "empty (0 bytes)");
        Path zeroJson = Files.createFile(dir.resolve("zero.jsonl"));
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(zeroJson)), zeroJson.toString(), "empty (0 bytes)");

        Path noRows = Files.writeString(dir.resolve("header-only.csv"), "prompt,completion\n");
        try (Dataset d = Dataset.open(noRows)) {
            assertEquals(List.of("prompt", "completion"), d.columns());
            assertMentions(assertThrows(DatasetException.class, d::requireRows), noRows.toString(), "empty (0 rows; columns: prompt, completion)");
        }
        Path emptyArray = Files.writeString(dir.resolve("empty.json"), "[ ]");
        try (Dataset d = Dataset.open(emptyArray)) {
            assertMentions(assertThrows(DatasetException.class, () -> d.requireColumn("text", ColumnType.STRING)),
                    emptyArray.toString(), "no column 'text'", "none (the dataset has no rows)");
        }
    }

    @Test
    void unreadableArrowFiles() throws Exception {
        Path garbage = Files.write(dir.resolve("garbage.arrow"), "this is not arrow at all, just text".getBytes());
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(garbage)), garbage.toString(), "not");

        byte[] stream = Files.readAllBytes(Fixtures.resource("js-stream.arrow"));
        Path truncated = Files.write(dir.resolve("truncated.arrow"), Arrays.copyOf(stream, stream.length - 700));
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(truncated)), truncated.toString(), "truncated");

        byte[] huge = stream.clone();
        huge[4] = (byte) 0xF0;
        huge[5] = (byte) 0xFF;
        huge[6] = (byte) 0xFF;
        huge[7] = (byte) 0x7F; // the schema claims ~2 GB of metadata: rejected before anything is allocated
        Path lying = Files.write(dir.resolve("lying.arrow"), huge);
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(lying)), lying.toString(),
                "declaring 2147483632 bytes of metadata");

        byte[] file = Files.readAllBytes(Fixtures.resource("js-file.arrow"));
        Path cut = Files.write(dir.resolve("cut.feather"), Arrays.copyOf(file, file.length - 3));
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(cut)), cut.toString(), "truncated");

        Path parquet = Files.write(dir.resolve("data.arrow"), "PAR1xxxxxxxxxxxxxxxxPAR1".getBytes());
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(parquet)), parquet.toString(), "Parquet");

        Path unknown = Files.writeString(dir.resolve("data.xlsx"), "x");
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(unknown)), unknown.toString(), "unknown dataset format");

        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(dir.resolve("nope.jsonl"))), "nope.jsonl", "no such file");
    }

    @Test
    void aShardChangedAfterOpeningIsReportedWithFileAndBatch() throws Exception {
        Path ds = chatDataset();
        Path shard = ds.resolve("data-00000-of-00001.arrow");
        try (Dataset d = Dataset.open(ds)) {
            byte[] bytes = Files.readAllBytes(shard);
            Files.write(shard, Arrays.copyOf(bytes, bytes.length - 100));
            DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.readAll(d));
            assertMentions(e, shard.toString(), "record batch 0");
        }
    }

    @Test
    void brokenSaveToDiskFolders() throws Exception {
        Path ds = chatDataset();
        Files.delete(ds.resolve("data-00000-of-00001.arrow"));
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(ds)), ds.toString(),
                "state.json lists data-00000-of-00001.arrow but the folder has no such file");

        Files.writeString(ds.resolve("state.json"), "{\"_data_files\": [{\"filename\": \"../../etc/passwd\"}]}");
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(ds)), "state.json", "not a plain file name");

        Files.writeString(ds.resolve("state.json"), "{\"_data_files\": [");
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(ds)), "state.json", "cannot read it as JSON");

        Path plain = Files.createDirectories(dir.resolve("plain"));
        Files.writeString(plain.resolve("train.jsonl"), "{}");
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(plain)), plain.toString(),
                "without state.json", "train.jsonl");
    }

    @Test
    void shardsWithDifferentColumnsAreRejected() throws Exception {
        Path a = chatDataset();
        Path b = dir.resolve("other");
        List<Map<String, Object>> rows = List.of(Map.of("prompt", "p"));
        DatasetWriter.saveToDisk(b, DatasetWriter.inferSchema(rows), rows.iterator());
        Files.copy(b.resolve("data-00000-of-00001.arrow"), a.resolve("data-00001-of-00002.arrow"));
        Files.move(a.resolve("data-00000-of-00001.arrow"), a.resolve("data-00000-of-00002.arrow"));
        Files.writeString(a.resolve("state.json"), "{\"_data_files\": [{\"filename\": \"data-00000-of-00002.arrow\"}, "
                + "{\"filename\": \"data-00001-of-00002.arrow\"}]}");
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(a)), a.toString(),
                "shards have different columns", "data-00001-of-00002.arrow has", "prompt: string");
    }

    @Test
    void textFileErrorsNameTheLine() throws Exception {
        Path badJson = Files.writeString(dir.resolve("bad.jsonl"), "{\"text\": \"a\"}\n{\"text\": \"b\",,}\n");
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(badJson).schema()), badJson.toString(), "line 2", "invalid JSON");

        Path notObjects = Files.writeString(dir.resolve("strings.jsonl"), "\"a\"\n\"b\"\n");
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(notObjects).schema()), "line 1", "expected a JSON object");

        Path conflict = Files.writeString(dir.resolve("conflict.jsonl"),
                "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n{\"messages\": [{\"role\": \"user\", \"content\": 7}]}\n");
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(conflict).schema()), conflict.toString(),
                "line 2", "'messages[].content' is an integer here but a string in earlier rows");

        Path unclosed = Files.writeString(dir.resolve("unclosed.csv"), "a,b\n1,2\n\"3,4\n5,6\n");
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(unclosed).schema()), unclosed.toString(),
                "line 3", "never closed");

        Path wide = Files.writeString(dir.resolve("wide.csv"), "a,b\n1,2\n1,2,3\n");
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(wide).numRows()), wide.toString(),
                "line 3", "expected 2 fields (as in the header), found 3");

        Path dup = Files.writeString(dir.resolve("dup.csv"), "a,a\n1,2\n");
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(dup).columns()), "names column 'a' twice");

        Path latin1 = Files.write(dir.resolve("latin1.csv"), new byte[] {'a', '\n', (byte) 0xE9, '\n'});
        assertMentions(assertThrows(DatasetException.class, () -> Dataset.open(latin1).columns()), "line 2", "not valid UTF-8");
    }

    @Test
    void rowAccessorsNameRowAndColumn() {
        Row r = new Row(12, Map.of("text", "hi", "n", 3L));
        assertMentions(assertThrows(DatasetException.class, () -> r.integer("text")), "row 12, column 'text'", "expected an integer", "String hi");
        assertMentions(assertThrows(DatasetException.class, () -> r.get("missing")), "row 12: no column 'missing'");
        assertEquals(3.0, r.number("n"));
    }
}
