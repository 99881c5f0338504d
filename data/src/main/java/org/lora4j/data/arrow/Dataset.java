package org.lora4j.data.arrow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * One split of a dataset on disk, read row by row without loading it: a Hugging Face {@code save_to_disk} folder
 * ({@code state.json}, {@code dataset_info.json}, {@code data-0000i-of-0000N.arrow}), a DatasetDict folder
 * ({@code dataset_dict.json} + one such folder per split), a single Arrow IPC file in stream format (what
 * {@code datasets} writes, including its cache files) or file format ({@code .arrow}, Feather V2
 * {@code .feather}), JSON lines / a JSON array ({@code .jsonl}, {@code .json}), CSV / TSV.
 *
 * <p>Opening validates the schema and, for Arrow, indexes the record batches (headers only). Reading holds
 * one record batch at a time ({@link #rows()}) or one shuffle window ({@link #rows(long)}). Iterators still open
 * when the dataset is closed are closed with it.
 */
public final class Dataset implements AutoCloseable {
    /** Rows a shuffled read mixes at once unless told otherwise (about 16 record batches of Hugging Face's 1000). */
    public static final int DEFAULT_SHUFFLE_WINDOW = 16_384;
    static final String DEFAULT_SPLIT = "train";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final Source source;
    private final Set<CloseableIterator<Row>> open = Collections.newSetFromMap(new IdentityHashMap<>());

    private Dataset(Path path, Source source) {
        this.path = path;
        this.source = source;
    }

    /** Opens a dataset; a DatasetDict folder opens its "train" split. */
    public static Dataset open(Path path) {
        return open(path, null);
    }

    /**
     * Opens split {@code split} of a DatasetDict folder; for anything else {@code split} must be null, "train"
     * (the split name Hugging Face gives a single file) or the {@code _split} recorded in {@code state.json}.
     */
    public static Dataset open(Path path, String split) {
        if (!Files.exists(path)) {
            throw new DatasetException(path + ": no such file or folder; expected a dataset folder (save_to_disk), "
                    + "an .arrow/.feather file, .jsonl/.json or .csv");
        }
        if (Files.isDirectory(path)) {
            if (Files.exists(path.resolve("dataset_dict.json"))) {
                return openSplit(path, split == null ? DEFAULT_SPLIT : split);
            }
            if (Files.exists(path.resolve("state.json"))) {
                return new Dataset(path, saveToDiskSource(path, split));
            }
            throw new DatasetException(path + ": a folder without state.json or dataset_dict.json, so not a dataset "
                    + "saved with save_to_disk; found " + listing(path) + ". Point at the folder that holds state.json, "
                    + "or at a single data file");
        }
        checkSplitOfFile(path, split);
        return new Dataset(path, fileSource(path));
    }

    private static Dataset openSplit(Path dict, String split) {
        JsonNode json = readJson(dict.resolve("dataset_dict.json"));
        List<String> splits = new ArrayList<>();
        json.path("splits").forEach(s -> splits.add(s.asText()));
        if (!splits.contains(split)) {
            throw new DatasetException(dict.resolve("dataset_dict.json") + ": no split '" + split + "'; available splits: "
                    + (splits.isEmpty() ? "(none listed under \"splits\")" : String.join(", ", splits)));
        }
        Path folder = dict.resolve(split);
        if (!Files.isDirectory(folder) || split.contains("/") || split.contains("\\") || split.startsWith(".")) {
            throw new DatasetException(dict + ": split '" + split + "' is listed in dataset_dict.json but there is no folder "
                    + folder.getFileName() + " with its data; re-save the DatasetDict");
        }
        return new Dataset(folder, saveToDiskSource(folder, split));
    }

    private static Source saveToDiskSource(Path dir, String split) {
        Path statePath = dir.resolve("state.json");
        JsonNode state = readJson(statePath);
        JsonNode savedSplit = state.get("_split");
        if (split != null && !split.equals(DEFAULT_SPLIT) && savedSplit != null && !savedSplit.isNull()
                && !split.equals(savedSplit.asText())) {
            throw new DatasetException(dir + ": holds split '" + savedSplit.asText() + "' (state.json _split), not '"
                    + split + "'; open the DatasetDict folder above it to pick a split");
        }
        JsonNode dataFiles = state.get("_data_files");
        if (dataFiles == null || !dataFiles.isArray() || dataFiles.isEmpty()) {
            throw new DatasetException(statePath + ": \"_data_files\" is missing or empty; expected a list such as "
                    + "[{\"filename\": \"data-00000-of-00001.arrow\"}]");
        }
        List<Path> files = new ArrayList<>();
        for (JsonNode f : dataFiles) {
            String name = f.path("filename").asText("");
            if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
                throw new DatasetException(statePath + ": \"_data_files\" entry " + f + " is not a plain file name in "
                        + "this folder; expected {\"filename\": \"data-00000-of-00001.arrow\"}");
            }
            Path file = dir.resolve(name);
            if (!Files.isRegularFile(file)) {
                throw new DatasetException(dir + ": state.json lists " + name + " but the folder has no such file; found "
                        + listing(dir) + ". The dataset was copied incompletely; copy it again");
            }
            files.add(file);
        }
        return new ArrowSource(dir, "save_to_disk", files);
    }

    private static Source fileSource(Path file) {
        long size = IpcIndex.size(file);
        if (size == 0) {
            throw new DatasetException(file + ": the file is empty (0 bytes); a dataset file holds at least a schema "
                    + "(Arrow) or one row (JSON/CSV)");
        }
        byte[] head = IpcIndex.head(file, 8);
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (IpcIndex.hasArrowMagic(head)) {
            return new ArrowSource(file, head[0] == 'A' ? "arrow file" : "arrow stream", List.of(file));
        }
        if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson")
                || name.endsWith(".jsonl.txt")) {
            return new JsonSource(file);
        }
        if (name.endsWith(".csv")) {
            return new CsvSource(file, ',');
        }
        if (name.endsWith(".tsv")) {
            return new CsvSource(file, '\t');
        }
        if (name.endsWith(".arrow") || name.endsWith(".feather") || name.endsWith(".ipc") || name.endsWith(".arrows")) {
            return new ArrowSource(file, "arrow stream", List.of(file)); // pre-1.0 stream, or a clear error
        }
        throw new DatasetException(file + ": unknown dataset format; expected an Arrow IPC file (.arrow, .feather), "
                + "JSON lines (.jsonl), JSON (.json), CSV (.csv) or TSV (.tsv), or a save_to_disk folder");
    }

    private static void checkSplitOfFile(Path file, String split) {
        if (split != null && !split.equals(DEFAULT_SPLIT)) {
            throw new DatasetException(file + ": split '" + split + "' asked for, but a single file holds one split "
                    + "(called \"train\"); use a DatasetDict folder (dataset_dict.json) to pick splits");
        }
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read it as JSON: " + e.getMessage(), e);
        }
    }

    private static String listing(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().limit(20).collect(Collectors.toList());
            return names.isEmpty() ? "nothing" : String.join(", ", names);
        } catch (IOException e) {
            return "(cannot list: " + e.getMessage() + ")";
        }
    }

    /** The file or folder as opened (for a DatasetDict: the split's folder). */
    public Path path() {
        return path;
    }

    /** The data files read, in row order. */
    public List<Path> files() {
        return source.files();
    }

    /** "save_to_disk", "arrow stream", "arrow file", "json lines", "json array", "csv" or "tsv". */
    public String format() {
        return source.format();
    }

    /** The Arrow schema (for JSON/CSV: inferred over the whole file, which costs one read). */
    public Schema schema() {
        return source.schema();
    }

    public List<String> columns() {
        return schema().getFields().stream().map(Field::getName).toList();
    }

    /** One line per column, e.g. {@code messages: list<struct<role: string, content: string>>}. */
    public String describeSchema() {
        return ArrowTypes.describe(schema());
    }

    /** Rows in the dataset: Arrow from the batch headers, JSON/CSV from one pass over the file (done once). */
    public long numRows() {
        long n = 0;
        for (Source.Chunk c : source.chunks()) {
            n += c.rows();
        }
        return n;
    }

    /** The rows in storage order, one record batch in memory at a time. Close the iterator (try-with-resources). */
    public CloseableIterator<Row> rows() {
        return track(new SequentialRows(source.chunks(), source.open()));
    }

    /** The rows shuffled with {@code seed} over a window of {@link #DEFAULT_SHUFFLE_WINDOW} rows; see {@link #rows(long, int)}. */
    public CloseableIterator<Row> rows(long seed) {
        return rows(seed, DEFAULT_SHUFFLE_WINDOW);
    }

    /**
     * The rows in an order that depends only on {@code seed}: record batches in shuffled order, rows shuffled
     * within windows of at least {@code windowRows} rows (the memory bound). Each row comes exactly once.
     */
    public CloseableIterator<Row> rows(long seed, int windowRows) {
        return track(new ShuffledRows(source.chunks(), source.open(), seed, windowRows));
    }

    /**
     * Checks that column {@code name} exists and holds {@code expected}; the error names the file, the column,
     * the expected and found types, and the columns that exist.
     */
    public void requireColumn(String name, ColumnType expected) {
        Schema schema = schema();
        Field field = schema.getFields().stream().filter(f -> f.getName().equals(name)).findFirst().orElse(null);
        if (field == null) {
            String available = schema.getFields().isEmpty()
                    ? "none (" + (numRows() == 0 ? "the dataset has no rows" : "the rows have no fields") + ")"
                    : schema.getFields().stream().map(f -> f.getName() + " (" + ArrowTypes.describe(f) + ")")
                            .collect(Collectors.joining(", "));
            throw new DatasetException(where() + ": no column '" + name + "'; expected " + expected.description()
                    + "; available columns: " + available + ". Rename the column in the data or point the recipe at "
                    + "one of the available columns");
        }
        if (!expected.accepts(field)) {
            throw new DatasetException(where() + ": column '" + name + "' is " + ArrowTypes.describe(field) + " but "
                    + "expected " + expected.description() + ". Convert the column or point the recipe at another one");
        }
    }

    /** Throws when the dataset has no rows: training or evaluating on it would silently do nothing. */
    public void requireRows() {
        if (numRows() == 0) {
            throw new DatasetException(where() + ": the dataset is empty (0 rows" + (columns().isEmpty() ? ""
                    : "; columns: " + String.join(", ", columns())) + "); expected at least one row. Check the "
                    + "file, the split, or the filter that produced it");
        }
    }

    /** The type a column satisfies most specifically, or null when there is no such column. */
    public ColumnType columnType(String name) {
        return schema().getFields().stream().filter(f -> f.getName().equals(name)).findFirst()
                .map(ColumnType::of).orElse(null);
    }

    private String where() {
        List<Path> files = source.files();
        return files.size() == 1 && !files.get(0).equals(path) ? path + " (" + files.get(0).getFileName() + ")" : path.toString();
    }

    private CloseableIterator<Row> track(CloseableIterator<Row> it) {
        CloseableIterator<Row> tracked = new CloseableIterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Row next() {
                return it.next();
            }

            @Override
            public void close() {
                synchronized (open) {
                    open.remove(this);
                }
                it.close();
            }
        };
        synchronized (open) {
            open.add(tracked);
        }
        return tracked;
    }

    @Override
    public void close() {
        List<CloseableIterator<Row>> still;
        synchronized (open) {
            still = new ArrayList<>(open);
        }
        for (CloseableIterator<Row> it : still) {
            it.close();
        }
    }

    @Override
    public String toString() {
        return path + " (" + format() + ")";
    }
}
