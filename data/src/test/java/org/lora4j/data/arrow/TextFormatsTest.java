package org.lora4j.data.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JSON lines, JSON arrays, CSV and TSV: parsing, type inference, chunked and shuffled reads, conversion. */
class TextFormatsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static List<Map<String, Object>> rows(int n) {
        return DatasetWriterTest.chatRows(n);
    }

    @Test
    void jsonLinesAndJsonArrayGiveTheSameRowsAsTheValuesWritten() throws Exception {
        List<Map<String, Object>> rows = rows(2345);
        StringBuilder lines = new StringBuilder();
        for (Map<String, Object> r : rows) {
            lines.append(JSON.writeValueAsString(r)).append('\n');
        }
        Path jsonl = dir.resolve("data.jsonl");
        Files.writeString(jsonl, "\uFEFF" + lines);
        Path array = dir.resolve("data.json");
        Files.writeString(array, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(rows));
        for (Path p : List.of(jsonl, array)) {
            try (Dataset ds = Dataset.open(p)) {
                assertEquals(2345, ds.numRows());
                assertEquals("id: int64\ntext: string\nmessages: list<struct<role: string, content: string>>\n"
                        + "ids: list<int64>\nscore: float64\nok: bool", ds.describeSchema());
                assertEquals(rows, Fixtures.values(Fixtures.readAll(ds)), p.toString());
                List<Row> shuffled = Fixtures.readAll(ds, 42, 1500);
                assertNotEquals(rows, Fixtures.values(shuffled));
                List<Row> sorted = new ArrayList<>(shuffled);
                sorted.sort(Comparator.comparingLong(Row::index));
                assertEquals(rows, Fixtures.values(sorted));
                ds.requireColumn("messages", ColumnType.LIST_OF_STRUCT);
            }
        }
        try (Dataset a = Dataset.open(jsonl); Dataset b = Dataset.open(array)) {
            assertEquals("json lines", a.format());
            assertEquals("json array", b.format());
        }
    }

    @Test
    void jsonRowsMayLackColumnsAndMixIntegersWithFloats() throws Exception {
        Path p = dir.resolve("mixed.jsonl");
        Files.writeString(p, "{\"a\": 1}\n\n{\"b\": \"x\", \"a\": 2.5}\n{\"a\": null, \"c\": [{\"k\": 1}, {\"k\": 2.0, \"j\": true}]}\n");
        try (Dataset ds = Dataset.open(p)) {
            assertEquals("a: float64\nb: string\nc: list<struct<k: float64, j: bool>>", ds.describeSchema());
            List<Map<String, Object>> values = Fixtures.values(Fixtures.readAll(ds));
            Map<String, Object> k1 = new HashMap<>();
            k1.put("k", 1.0);
            k1.put("j", null);
            assertEquals(Arrays.asList(1.0, 2.5, null), values.stream().map(v -> v.get("a")).toList());
            assertEquals(Arrays.asList(null, "x", null), values.stream().map(v -> v.get("b")).toList());
            assertEquals(List.of(k1, Map.of("k", 2.0, "j", true)), values.get(2).get("c"));
        }
    }

    @Test
    void csvFollowsRfc4180AndInfersTypesLikeHuggingFace() throws Exception {
        Path p = dir.resolve("data.csv");
        String csv = "\uFEFFprompt,answer,n,ratio,flag\r\n"
                + "\"Hello, world\",\"She said \"\"hi\"\"\",1,0.5,True\r\n"
                + "\"two\nlines\",,2,,false\r\n"
                + "\n"
                + "plain,ü 世界,-3,1e3,\n"
                + "short,row\n";
        Files.write(p, csv.getBytes(StandardCharsets.UTF_8));
        try (Dataset ds = Dataset.open(p)) {
            assertEquals("csv", ds.format());
            assertEquals("prompt: string\nanswer: string\nn: int64\nratio: float64\nflag: bool", ds.describeSchema());
            List<Map<String, Object>> values = Fixtures.values(Fixtures.readAll(ds));
            assertEquals(4, values.size());
            assertEquals(row("Hello, world", "She said \"hi\"", 1L, 0.5, true), values.get(0));
            assertEquals(row("two\nlines", null, 2L, null, false), values.get(1));
            assertEquals(row("plain", "ü 世界", -3L, 1000.0, null), values.get(2));
            assertEquals(row("short", "row", null, null, null), values.get(3));
        }
    }

    private static Map<String, Object> row(String prompt, String answer, Long n, Double ratio, Boolean flag) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", prompt);
        m.put("answer", answer);
        m.put("n", n);
        m.put("ratio", ratio);
        m.put("flag", flag);
        return m;
    }

    @Test
    void csvAndTsvChunksCanBeReadInAnyOrder() throws Exception {
        StringBuilder csv = new StringBuilder("id,text\n");
        StringBuilder tsv = new StringBuilder("id\ttext\n");
        for (int i = 0; i < 3210; i++) {
            csv.append(i).append(",\"line ").append(i).append(i % 100 == 0 ? "\nsecond line\"" : "\"").append('\n');
            tsv.append(i).append("\tline ").append(i).append('\n');
        }
        Files.writeString(dir.resolve("big.csv"), csv);
        Files.writeString(dir.resolve("big.tsv"), tsv);
        for (String name : List.of("big.csv", "big.tsv")) {
            try (Dataset ds = Dataset.open(dir.resolve(name))) {
                assertEquals(3210, ds.numRows());
                List<Row> rows = Fixtures.readAll(ds, 7, 1000);
                rows.sort(Comparator.comparingLong(Row::index));
                for (int i = 0; i < rows.size(); i++) {
                    assertEquals((long) i, rows.get(i).integer("id"));
                    String text = "line " + i + (name.endsWith("csv") && i % 100 == 0 ? "\nsecond line" : "");
                    assertEquals(text, rows.get(i).string("text"));
                }
            }
        }
    }

    @Test
    void convertTurnsJsonlAndCsvIntoADatasetFolder() throws Exception {
        List<Map<String, Object>> rows = rows(1234);
        StringBuilder lines = new StringBuilder();
        for (Map<String, Object> r : rows) {
            lines.append(JSON.writeValueAsString(r)).append('\n');
        }
        Path jsonl = dir.resolve("chat.jsonl");
        Files.writeString(jsonl, lines);
        Path out = Convert.jsonOrCsvToDataset(jsonl, dir.resolve("chat-ds"));
        assertTrue(Files.exists(out.resolve("state.json")));
        try (Dataset ds = Dataset.open(out)) {
            assertEquals("save_to_disk", ds.format());
            assertEquals(rows, Fixtures.values(Fixtures.readAll(ds)));
        }

        Path csv = dir.resolve("pairs.csv");
        Files.writeString(csv, "prompt,completion\nWhat is 2+2?,4\n\"Say \"\"hi\"\"\",hi\n");
        try (Dataset ds = Dataset.open(Convert.jsonOrCsvToDataset(csv, dir.resolve("pairs-ds")))) {
            assertEquals("prompt: string\ncompletion: string", ds.describeSchema());
            List<Row> back = Fixtures.readAll(ds);
            assertEquals("Say \"hi\"", back.get(1).string("prompt"));
            assertEquals("4", back.get(0).text("completion"));
        }

        // Arrow in, too: a foreign file format dataset with a dictionary column becomes a plain save_to_disk folder
        try (Dataset ds = Dataset.open(Convert.jsonOrCsvToDataset(Fixtures.resource("js-file.arrow"), dir.resolve("js-ds")))) {
            assertEquals(Fixtures.jsExpected(), Fixtures.values(Fixtures.readAll(ds)));
            assertTrue(ds.describeSchema().endsWith("label: string"), ds.describeSchema());
        }
    }
}
