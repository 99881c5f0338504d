package org.lora4j.data.arrow;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Test helpers: the checked-in fixtures and small row builders. */
final class Fixtures {
    private Fixtures() {}

    /** A file under src/test/resources/arrow. */
    static Path resource(String name) {
        try {
            return Path.of(Fixtures.class.getResource("/arrow/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource arrow/" + name, e);
        }
    }

    /**
     * The rows the apache-arrow (JavaScript) fixtures hold, from js-expected.json, as lora4j returns them:
     * n as Long, score as Double, ids as a list of Long.
     */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> jsExpected() throws Exception {
        List<Map<String, Object>> raw = new ObjectMapper().readValue(resource("js-expected.json").toFile(), List.class);
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> r : raw) {
            Map<String, Object> row = new LinkedHashMap<>(r);
            row.put("score", r.get("score") == null ? null : ((Number) r.get("score")).doubleValue());
            row.put("n", ((Number) r.get("n")).longValue());
            List<Object> ids = (List<Object>) r.get("ids");
            row.put("ids", ids == null ? null : ids.stream().map(x -> (Object) ((Number) x).longValue()).toList());
            out.add(row);
        }
        return out;
    }

    /** A chat row: {"id": id, "text": text, "messages": [{role, content}...]}. */
    static Map<String, Object> chat(long id, String text, String... roleContent) {
        List<Object> messages = new ArrayList<>();
        for (int i = 0; i + 1 < roleContent.length; i += 2) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", roleContent[i]);
            m.put("content", roleContent[i + 1]);
            messages.add(m);
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", id);
        row.put("text", text);
        row.put("messages", messages);
        return row;
    }

    static List<Row> readAll(Dataset ds) {
        List<Row> out = new ArrayList<>();
        try (CloseableIterator<Row> it = ds.rows()) {
            it.forEachRemaining(out::add);
        }
        return out;
    }

    static List<Row> readAll(Dataset ds, long seed, int window) {
        List<Row> out = new ArrayList<>();
        try (CloseableIterator<Row> it = ds.rows(seed, window)) {
            it.forEachRemaining(out::add);
        }
        return out;
    }

    static List<Map<String, Object>> values(List<Row> rows) {
        return rows.stream().map(Row::values).toList();
    }
}
