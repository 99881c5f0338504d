package org.lora4j.data.arrow;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Rows of a JSON file, one object per row, in either layout Hugging Face's {@code load_dataset("json")} reads:
 * JSON lines (objects one after another, usually one per line) or one top-level array of objects.
 * Parsed with Jackson's streaming parser; only one chunk of rows is in memory at a time.
 */
final class JsonSource extends TextSource {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(1 << 30).build())
            .build();
    private static final ObjectMapper MAPPER = new ObjectMapper(FACTORY)
            .enable(DeserializationFeature.USE_LONG_FOR_INTS);

    private final boolean array;

    JsonSource(Path path) {
        super(path);
        this.array = firstToken() == JsonToken.START_ARRAY;
    }

    private JsonToken firstToken() {
        try (InputStream in = openAt(0); JsonParser p = FACTORY.createParser(in)) {
            return next(p);
        } catch (IOException e) {
            throw new DatasetException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    @Override
    public String format() {
        return array ? "json array" : "json lines";
    }

    @Override
    protected Scan scan() throws IOException {
        SchemaInference inference = new SchemaInference();
        List<Chunk> chunks = new ArrayList<>();
        try (InputStream in = openAt(0); JsonParser p = FACTORY.createParser(in)) {
            JsonToken first = next(p);
            JsonToken t = array ? next(p) : first;
            long offset = 0;
            int inChunk = 0;
            while (t != null && t != JsonToken.END_ARRAY) {
                long line = p.currentTokenLocation().getLineNr();
                if (t != JsonToken.START_OBJECT) {
                    throw new DatasetException(path + " line " + line + ": expected a JSON object for row "
                            + inference.rows() + ", found " + t.asString() + "; each row must be an object such as "
                            + "{\"text\": \"...\"} (JSON lines, or an array of objects)");
                }
                if (inChunk == 0) {
                    offset = p.currentTokenLocation().getByteOffset();
                }
                Map<String, Object> row = readObject(p);
                inference.add(row, path + " line " + line);
                if (++inChunk == CHUNK_ROWS) {
                    chunks.add(new Chunk(0, chunks.size(), offset, inChunk, inference.rows() - inChunk));
                    inChunk = 0;
                }
                t = next(p);
            }
            if (inChunk > 0) {
                chunks.add(new Chunk(0, chunks.size(), offset, inChunk, inference.rows() - inChunk));
            }
            if (t == JsonToken.END_ARRAY && next(p) != null) {
                throw new DatasetException(path + " line " + p.currentTokenLocation().getLineNr()
                        + ": unexpected content after the closing ']' of the top-level array");
            }
        }
        return new Scan(inference.schema(), List.copyOf(chunks));
    }

    @Override
    protected List<Map<String, Object>> parse(Chunk chunk, InputStream in) throws IOException {
        // an array's elements are separated by commas: "[" in front makes the rest of the file a valid array prefix
        InputStream source = array ? new SequenceInputStream(new ByteArrayInputStream(new byte[] {'['}), in) : in;
        List<Map<String, Object>> rows = new ArrayList<>(chunk.rows());
        try (JsonParser p = FACTORY.createParser(source)) {
            if (array && next(p) != JsonToken.START_ARRAY) {
                throw new IOException("lost the array structure");
            }
            for (int i = 0; i < chunk.rows(); i++) {
                if (next(p) != JsonToken.START_OBJECT) {
                    break;
                }
                rows.add(SchemaInference.conformRow(readObject(p), schema()));
            }
        }
        return rows;
    }

    private JsonToken next(JsonParser p) throws IOException {
        try {
            return p.nextToken();
        } catch (JsonProcessingException e) {
            throw syntax(e);
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> readObject(JsonParser p) throws IOException {
        try {
            return MAPPER.readValue(p, Map.class);
        } catch (JsonProcessingException e) {
            throw syntax(e);
        }
    }

    private DatasetException syntax(JsonProcessingException e) {
        String where = e.getLocation() == null ? "" : " line " + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr();
        return new DatasetException(path + where + ": invalid JSON: " + e.getOriginalMessage()
                + "; expected JSON lines (one object per line) or a JSON array of objects", e);
    }
}
