package org.lora4j.data.arrow;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Writes rows as a Hugging Face {@code save_to_disk} folder that {@code datasets.load_from_disk} opens and
 * {@link Dataset#open} reads: {@code data-0000i-of-0000N.arrow} (Arrow IPC streams, record batches of
 * {@value #BATCH_ROWS} rows), {@code dataset_info.json} (the features), {@code state.json} (the shard list).
 * Rows are streamed: one record batch is in memory at a time. A new shard starts when the current one has
 * reached {@code maxShardBytes}. The folder is written under a temporary name and renamed when complete.
 */
public final class DatasetWriter {
    /** Hugging Face's default {@code max_shard_size} ("500MB"). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 500L * 1000 * 1000;
    /** Rows per record batch: Hugging Face's default writer batch size. */
    public static final int BATCH_ROWS = 1000;
    /** A batch is also cut when its values reach about this many bytes, to bound memory for long rows. */
    static final long BATCH_BYTES = 32L << 20;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private DatasetWriter() {}

    /**
     * Writes {@code rows} (column name → value; values as {@link Row} holds them, absent keys are null) with
     * {@code schema} into folder {@code dir}, replacing an older dataset there. Returns the number of rows.
     */
    public static long saveToDisk(Path dir, Schema schema, Iterator<Map<String, Object>> rows, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        ObjectNode features = HfFeatures.of(schema);
        Schema withMetadata = withFeatures(ArrowTypes.plain(schema), features);
        Path tmp = null;
        try {
            tmp = AtomicOutput.tempFolderFor(dir);
            List<IpcStreamWriter> shards = new ArrayList<>();
            MessageDigest fingerprint = MessageDigest.getInstance("SHA-256");
            long n = 0;
            IpcStreamWriter shard = null;
            try {
                do {
                    shard = new IpcStreamWriter(tmp.resolve("shard-" + shards.size() + ".arrow"), withMetadata,
                            BATCH_ROWS, BATCH_BYTES);
                    shards.add(shard);
                    while (shard.bytesWritten() < maxShardBytes && rows.hasNext()) {
                        writeRow(shard, rows.next(), n++, dir);
                    }
                    shard.finish();
                    fingerprint.update(shard.digest());
                    shard.close();
                    shard = null;
                } while (rows.hasNext());
            } finally {
                if (shard != null) {
                    shard.close();
                }
            }
            List<String> names = new ArrayList<>();
            for (int i = 0; i < shards.size(); i++) {
                String name = String.format("data-%05d-of-%05d.arrow", i, shards.size());
                Files.move(shards.get(i).file(), tmp.resolve(name));
                names.add(name);
            }
            writeJson(tmp.resolve("dataset_info.json"), datasetInfo(features));
            writeJson(tmp.resolve("state.json"), state(names, HexFormat.of().formatHex(fingerprint.digest(), 0, 8)));
            AtomicOutput.publishFolder(tmp, dir);
            tmp = null;
            return n;
        } catch (IOException e) {
            throw new DatasetException(dir + ": cannot write the dataset: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            AtomicOutput.deleteRecursively(tmp);
        }
    }

    /** {@link #saveToDisk(Path, Schema, Iterator, long)} with {@link #DEFAULT_MAX_SHARD_BYTES}. */
    public static long saveToDisk(Path dir, Schema schema, Iterator<Map<String, Object>> rows) {
        return saveToDisk(dir, schema, rows, DEFAULT_MAX_SHARD_BYTES);
    }

    /**
     * The schema pyarrow would infer from these JSON-like rows: strings → string, integers → int64, numbers →
     * float64, bools → bool, lists → list, objects (e.g. chat messages) → struct; null-only columns → string.
     * Conflicting types in one column are an error naming the row.
     */
    public static Schema inferSchema(List<Map<String, Object>> sampleRows) {
        SchemaInference inference = new SchemaInference();
        for (int i = 0; i < sampleRows.size(); i++) {
            inference.add(sampleRows.get(i), "row " + i);
        }
        return inference.schema();
    }

    private static void writeRow(IpcStreamWriter shard, Map<String, Object> values, long index, Path dir) throws IOException {
        List<FieldVector> vectors = shard.root().getFieldVectors();
        for (String key : values.keySet()) {
            if (shard.root().getVector(key) == null) {
                throw new DatasetException(dir + ": row " + index + " has column '" + key + "', which the schema lacks; "
                        + "columns: " + String.join(", ", shard.root().getSchema().getFields().stream()
                        .map(f -> f.getName()).toList()) + ". Add it to the schema or drop it from the rows");
            }
        }
        long bytes = 0;
        for (FieldVector v : vectors) {
            Object value = values.get(v.getName());
            try {
                VectorFill.write(v, shard.row(), value);
            } catch (VectorFill.Mismatch m) {
                throw new DatasetException(dir + ": row " + index + ", column '" + v.getName() + m.path + "' " + m.problem
                        + "; fix the row or the schema", m);
            }
            bytes += estimateBytes(value);
        }
        shard.endRow(bytes);
    }

    /** A rough in-memory Arrow size of a value, to cut batches of long rows early. */
    static long estimateBytes(Object v) {
        if (v == null) {
            return 1;
        }
        if (v instanceof String) {
            return ((String) v).length() + 4L;
        }
        if (v instanceof byte[]) {
            return ((byte[]) v).length + 4L;
        }
        if (v instanceof List) {
            long n = 4;
            for (Object item : (List<?>) v) {
                n += estimateBytes(item);
            }
            return n;
        }
        if (v instanceof Map) {
            long n = 1;
            for (Object item : ((Map<?, ?>) v).values()) {
                n += estimateBytes(item);
            }
            return n;
        }
        if (v instanceof int[]) {
            return 4L * ((int[]) v).length + 4;
        }
        return 8;
    }

    private static Schema withFeatures(Schema schema, ObjectNode features) {
        ObjectNode info = JSON.createObjectNode();
        info.set("features", features);
        ObjectNode hf = JSON.createObjectNode();
        hf.set("info", info);
        try {
            return new Schema(schema.getFields(), Map.of("huggingface", JSON.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(hf)));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> datasetInfo(ObjectNode features) {
        // datasets writes the top-level keys sorted; nested feature order is the column order
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("citation", "");
        info.put("description", "");
        info.put("features", features);
        info.put("homepage", "");
        info.put("license", "");
        return info;
    }

    private static Map<String, Object> state(List<String> files, String fingerprint) {
        Map<String, Object> state = new LinkedHashMap<>();
        List<Map<String, String>> dataFiles = new ArrayList<>();
        for (String f : files) {
            dataFiles.add(Map.of("filename", f));
        }
        state.put("_data_files", dataFiles);
        state.put("_fingerprint", fingerprint);
        state.put("_format_columns", null);
        state.put("_format_kwargs", Map.of());
        state.put("_format_type", null);
        state.put("_output_all_columns", false);
        state.put("_split", null);
        return state;
    }

    private static void writeJson(Path file, Object value) throws IOException {
        Files.write(file, JSON.writeValueAsBytes(value));
    }
}
