package org.lora4j.data.arrow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static List<Map<String, Object>> chatRows(int n) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, Object> row = Fixtures.chat(i, i % 7 == 3 ? null : "text " + i + " ü",
                    "user", "question " + i, "assistant", i % 5 == 0 ? null : "answer " + i);
            row.put("ids", LongStream.range(0, i % 4).boxed().collect(Collectors.toList()));
            row.put("score", i % 3 == 0 ? null : i / 4.0);
            row.put("ok", i % 2 == 0);
            rows.add(row);
        }
        return rows;
    }

    @Test
    void writesTheSaveToDiskLayoutAndReadsItBack() throws Exception {
        List<Map<String, Object>> rows = chatRows(2500);
        Schema schema = DatasetWriter.inferSchema(rows);
        Path out = dir.resolve("ds");
        assertEquals(2500, DatasetWriter.saveToDisk(out, schema, rows.iterator(), DatasetWriter.DEFAULT_MAX_SHARD_BYTES));

        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of("data-00000-of-00001.arrow", "dataset_info.json", "state.json"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        JsonNode state = JSON.readTree(out.resolve("state.json").toFile());
        assertEquals("data-00000-of-00001.arrow", state.get("_data_files").get(0).get("filename").asText());
        assertEquals(16, state.get("_fingerprint").asText().length());
        for (String key : List.of("_format_columns", "_format_kwargs", "_format_type", "_output_all_columns", "_split")) {
            assertTrue(state.has(key), key);
        }
        JsonNode features = JSON.readTree(out.resolve("dataset_info.json").toFile()).get("features");
        assertEquals(JSON.readTree("""
                {"id": {"dtype": "int64", "_type": "Value"},
                 "text": {"dtype": "string", "_type": "Value"},
                 "messages": [{"role": {"dtype": "string", "_type": "Value"}, "content": {"dtype": "string", "_type": "Value"}}],
                 "ids": {"feature": {"dtype": "int64", "_type": "Value"}, "_type": "Sequence"},
                 "score": {"dtype": "float64", "_type": "Value"},
                 "ok": {"dtype": "bool", "_type": "Value"}}"""), features);
        assertEquals(List.of("id", "text", "messages", "ids", "score", "ok"),
                iterable(features.fieldNames()));

        IpcIndex shard = IpcIndex.read(out.resolve("data-00000-of-00001.arrow"));
        assertFalse(shard.fileFormat(), "save_to_disk shards are IPC streams");
        assertEquals(List.of(1000, 1000, 500), shard.batches().stream().map(IpcIndex.Batch::rows).toList());
        JsonNode hf = JSON.readTree(shard.schema().getCustomMetadata().get("huggingface"));
        assertEquals(features, hf.get("info").get("features"));

        try (Dataset ds = Dataset.open(out)) {
            assertEquals("save_to_disk", ds.format());
            assertEquals(2500, ds.numRows());
            assertEquals("id: int64\ntext: string\nmessages: list<struct<role: string, content: string>>\n"
                    + "ids: list<int64>\nscore: float64\nok: bool", ds.describeSchema());
            List<Row> back = Fixtures.readAll(ds);
            assertEquals(rows, Fixtures.values(back));
            assertEquals(LongStream.range(0, 2500).boxed().toList(), back.stream().map(Row::index).toList());
        }
    }

    private static List<String> iterable(Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void shardsBySizeKeepingRowOrder() throws Exception {
        List<Map<String, Object>> rows = chatRows(5000);
        Path out = dir.resolve("sharded");
        DatasetWriter.saveToDisk(out, DatasetWriter.inferSchema(rows), rows.iterator(), 100_000);
        JsonNode files = JSON.readTree(out.resolve("state.json").toFile()).get("_data_files");
        int n = files.size();
        assertTrue(n >= 3, "expected several shards, got " + n);
        for (int i = 0; i < n; i++) {
            String name = String.format("data-%05d-of-%05d.arrow", i, n);
            assertEquals(name, files.get(i).get("filename").asText());
            assertTrue(Files.size(out.resolve(name)) < 100_000 + 400_000, "shard " + i + " far over the limit");
        }
        try (Dataset ds = Dataset.open(out)) {
            assertEquals(n, ds.files().size());
            assertEquals(5000, ds.numRows());
            assertEquals(rows, Fixtures.values(Fixtures.readAll(ds)));
        }
    }

    @Test
    void writesEveryArrowTypeItReads() {
        Field item = new Field("item", FieldType.nullable(new ArrowType.Int(32, true)), null);
        Schema schema = new Schema(List.of(
                field("big_text", ArrowType.LargeUtf8.INSTANCE),
                new Field("big_list", FieldType.nullable(ArrowType.LargeList.INSTANCE), List.of(field("item", ArrowType.Utf8.INSTANCE))),
                field("i32", new ArrowType.Int(32, true)),
                field("u8", new ArrowType.Int(8, false)),
                field("f32", new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
                field("bytes", ArrowType.Binary.INSTANCE),
                new Field("pair", FieldType.nullable(new ArrowType.FixedSizeList(2)), List.of(item)),
                new Field("meta", FieldType.nullable(ArrowType.Struct.INSTANCE),
                        List.of(field("source", ArrowType.Utf8.INSTANCE), field("turns", new ArrowType.Int(16, true))))));
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("big_text", "long " + i);
            r.put("big_list", i % 10 == 0 ? null : List.of("a" + i, "b"));
            r.put("i32", (long) -i);
            r.put("u8", (long) (i % 256));
            r.put("f32", i * 0.5);
            r.put("bytes", new byte[] {(byte) i, 7});
            r.put("pair", i % 9 == 0 ? null : List.of((long) i, (long) i + 1));
            r.put("meta", i % 11 == 0 ? null : new LinkedHashMap<>(Map.of("source", "s" + i, "turns", (long) i % 100)));
            rows.add(r);
        }
        Path out = dir.resolve("types");
        DatasetWriter.saveToDisk(out, schema, rows.iterator());
        try (Dataset ds = Dataset.open(out)) {
            assertEquals("big_text: large_string\nbig_list: large_list<string>\ni32: int32\nu8: uint8\nf32: float32\n"
                    + "bytes: binary\npair: fixed_size_list<int32>[2]\nmeta: struct<source: string, turns: int16>",
                    ds.describeSchema());
            List<Row> back = Fixtures.readAll(ds);
            for (int i = 0; i < rows.size(); i++) {
                Map<String, Object> expected = new LinkedHashMap<>(rows.get(i));
                Map<String, Object> found = new LinkedHashMap<>(back.get(i).values());
                assertArrayEquals((byte[]) expected.remove("bytes"), (byte[]) found.remove("bytes"));
                if (expected.get("meta") != null) {
                    Map<String, Object> meta = new LinkedHashMap<>();
                    meta.put("source", "s" + i);
                    meta.put("turns", (long) i % 100);
                    expected.put("meta", meta);
                }
                assertEquals(expected, found, "row " + i);
            }
            ds.requireColumn("big_text", ColumnType.STRING);
            ds.requireColumn("big_list", ColumnType.LIST_OF_STRING);
            ds.requireColumn("pair", ColumnType.LIST_OF_INT);
            ds.requireColumn("meta", ColumnType.STRUCT);
        }
        JsonNode features = readFeatures(out);
        assertEquals("LargeList", features.get("big_list").get("_type").asText());
        assertEquals("large_string", features.get("big_text").get("dtype").asText());
        assertEquals(2, features.get("pair").get("length").asInt());
        assertEquals("int16", features.get("meta").get("turns").get("dtype").asText());
    }

    private static JsonNode readFeatures(Path out) throws RuntimeException {
        try {
            return JSON.readTree(out.resolve("dataset_info.json").toFile()).get("features");
        } catch (java.io.IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static Field field(String name, ArrowType type) {
        return new Field(name, FieldType.nullable(type), null);
    }

    @Test
    void aBadRowLeavesTheOldDatasetInPlaceAndNoTemporaryFolder() throws Exception {
        Path out = dir.resolve("atomic");
        List<Map<String, Object>> good = chatRows(10);
        Schema schema = DatasetWriter.inferSchema(good);
        DatasetWriter.saveToDisk(out, schema, good.iterator());

        List<Map<String, Object>> rows = chatRows(3000);
        rows.get(2345).put("score", "high");
        DatasetException e = assertThrows(DatasetException.class,
                () -> DatasetWriter.saveToDisk(out, schema, rows.iterator(), 50_000));
        assertTrue(e.getMessage().contains("row 2345") && e.getMessage().contains("column 'score'")
                && e.getMessage().contains("expected float64") && e.getMessage().contains("\"high\""), e.getMessage());

        rows.get(2345).put("score", 1.0);
        rows.get(2346).put("messages", List.of(Map.of("role", 5, "content", "x")));
        e = assertThrows(DatasetException.class, () -> DatasetWriter.saveToDisk(out, schema, rows.iterator()));
        assertTrue(e.getMessage().contains("row 2346, column 'messages[0].role' expected string, found Integer 5"), e.getMessage());

        rows.get(2346).put("messages", List.of());
        rows.get(7).put("extra", "x");
        e = assertThrows(DatasetException.class, () -> DatasetWriter.saveToDisk(out, schema, rows.iterator()));
        assertTrue(e.getMessage().contains("row 7 has column 'extra', which the schema lacks"), e.getMessage());

        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("atomic"), s.map(p -> p.getFileName().toString()).toList(), "temporary folders left");
        }
        try (Dataset ds = Dataset.open(out)) {
            assertEquals(10, ds.numRows(), "the old dataset must survive a failed write");
        }
    }

    @Test
    void replacesADatasetButNeverAnOrdinaryFolder() throws Exception {
        Path out = dir.resolve("out");
        List<Map<String, Object>> rows = chatRows(3);
        Schema schema = DatasetWriter.inferSchema(rows);
        DatasetWriter.saveToDisk(out, schema, rows.iterator());
        DatasetWriter.saveToDisk(out, schema, chatRows(5).iterator());
        try (Dataset ds = Dataset.open(out)) {
            assertEquals(5, ds.numRows());
        }
        Path precious = dir.resolve("precious");
        Files.createDirectories(precious);
        Files.writeString(precious.resolve("notes.txt"), "keep me");
        DatasetException e = assertThrows(DatasetException.class,
                () -> DatasetWriter.saveToDisk(precious, schema, rows.iterator()));
        assertTrue(e.getMessage().contains("refusing to replace"), e.getMessage());
        assertEquals("keep me", Files.readString(precious.resolve("notes.txt")));
    }

    @Test
    void anEmptyDatasetHasOneShardWithTheSchema() {
        Path out = dir.resolve("empty");
        Schema schema = DatasetWriter.inferSchema(chatRows(1));
        assertEquals(0, DatasetWriter.saveToDisk(out, schema, List.<Map<String, Object>>of().iterator()));
        assertTrue(Files.exists(out.resolve("data-00000-of-00001.arrow")));
        try (Dataset ds = Dataset.open(out)) {
            assertEquals(0, ds.numRows());
            assertEquals(List.of("id", "text", "messages", "ids", "score", "ok"), ds.columns());
            assertFalse(ds.rows().hasNext());
            assertFalse(ds.rows(1).hasNext());
            DatasetException e = assertThrows(DatasetException.class, ds::requireRows);
            assertTrue(e.getMessage().contains(out.toString()) && e.getMessage().contains("empty (0 rows"), e.getMessage());
        }
    }

    @Test
    void infersPyarrowLikeTypes() {
        List<Map<String, Object>> rows = new ArrayList<>();
        rows.add(new LinkedHashMap<>(Map.of("x", 1)));
        Map<String, Object> second = new LinkedHashMap<>();
        second.put("x", 2.5);
        second.put("nothing", null);
        second.put("empty", List.of());
        second.put("nested", Map.of("a", List.of(Map.of("b", true))));
        rows.add(second);
        assertEquals("x: float64\nnothing: string\nempty: list<string>\nnested: struct<a: list<struct<b: bool>>>",
                ArrowTypes.describe(DatasetWriter.inferSchema(rows)));

        rows.add(new LinkedHashMap<>(Map.of("x", "three")));
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetWriter.inferSchema(rows));
        assertEquals("row 2: 'x' is a string here but a number in earlier rows; every row must hold the same type "
                + "in a column (fix the data, e.g. quote the numbers, or drop the column)", e.getMessage());
    }
}
