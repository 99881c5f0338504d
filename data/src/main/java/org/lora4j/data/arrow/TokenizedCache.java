package org.lora4j.data.arrow;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Tokenized examples on disk, so that tokenizing, templating and packing run once: an Arrow IPC stream with
 * {@code list<int32>} columns {@code input_ids}, {@code labels} and, when present, {@code position_ids} (packed
 * sequences). The same layout as a tokenized Hugging Face dataset, which {@code datasets.Dataset.from_file} opens.
 * An example is {@code int[][] {inputIds, labels, positionIds or null}}, all of one length.
 */
public final class TokenizedCache {
    public static final String INPUT_IDS = "input_ids";
    public static final String LABELS = "labels";
    public static final String POSITION_IDS = "position_ids";
    static final int BATCH_ROWS = 1024;
    static final long BATCH_BYTES = 16L << 20;

    private TokenizedCache() {}

    /** Writes the examples to {@code file} atomically; returns how many were written. */
    public static long write(Path file, Iterator<int[][]> examples) {
        return write(file, examples, Map.of());
    }

    /**
     * Same, with {@code metadata} stored in the schema (e.g. the tokenizer's and template's fingerprints, so a
     * reader can tell a stale cache). Position ids are written iff the first example has them.
     */
    public static long write(Path file, Iterator<int[][]> examples, Map<String, String> metadata) {
        int[][] first = examples.hasNext() ? examples.next() : null;
        boolean positions = first != null && first.length > 2 && first[2] != null;
        List<Field> fields = new ArrayList<>(List.of(intList(INPUT_IDS), intList(LABELS)));
        if (positions) {
            fields.add(intList(POSITION_IDS));
        }
        Schema schema = new Schema(fields, metadata);
        Path tmp = null;
        try {
            tmp = AtomicOutput.tempFileFor(file);
            long n = 0;
            try (IpcStreamWriter w = new IpcStreamWriter(tmp, schema, BATCH_ROWS, BATCH_BYTES)) {
                List<FieldVector> vectors = w.root().getFieldVectors();
                for (int[][] ex = first; ex != null; ex = examples.hasNext() ? examples.next() : null) {
                    check(file, ex, n, positions);
                    for (int c = 0; c < vectors.size(); c++) {
                        put((ListVector) vectors.get(c), w.row(), ex[c]);
                    }
                    w.endRow(4L * ex[0].length * vectors.size());
                    n++;
                }
                w.finish();
            }
            AtomicOutput.publishFile(tmp, file);
            tmp = null;
            return n;
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot write the tokenized cache: " + e.getMessage(), e);
        } finally {
            AtomicOutput.deleteRecursively(tmp);
        }
    }

    private static Field intList(String name) {
        return new Field(name, FieldType.nullable(ArrowType.List.INSTANCE),
                List.of(new Field("item", FieldType.nullable(new ArrowType.Int(32, true)), null)));
    }

    private static void check(Path file, int[][] ex, long n, boolean positions) {
        String problem = null;
        if (ex.length < 2 || ex[0] == null || ex[1] == null) {
            problem = "needs {inputIds, labels[, positionIds]}, both non-null";
        } else if (ex[1].length != ex[0].length) {
            problem = "has " + ex[0].length + " input ids but " + ex[1].length + " labels";
        } else if (positions && (ex.length < 3 || ex[2] == null)) {
            problem = "has no position ids, but the first example had them (all examples must, or none)";
        } else if (!positions && ex.length > 2 && ex[2] != null) {
            problem = "has position ids, but the first example had none (all examples must, or none)";
        } else if (positions && ex[2].length != ex[0].length) {
            problem = "has " + ex[0].length + " input ids but " + ex[2].length + " position ids";
        }
        if (problem != null) {
            throw new DatasetException(file + ": example " + n + " " + problem);
        }
    }

    private static void put(ListVector list, int row, int[] values) {
        int start = list.startNewValue(row);
        IntVector data = (IntVector) list.getDataVector();
        for (int i = 0; i < values.length; i++) {
            data.setSafe(start + i, values[i]);
        }
        list.endValue(row, values.length);
    }

    /** Examples in file order, one record batch in memory at a time; position ids are null when not stored. */
    public static CloseableIterator<int[][]> read(Path file) {
        IpcIndex index = IpcIndex.read(file);
        Schema schema = index.schema();
        requireIntList(file, schema, INPUT_IDS, true);
        requireIntList(file, schema, LABELS, true);
        boolean positions = requireIntList(file, schema, POSITION_IDS, false);
        IpcReader reader = new IpcReader(index);
        return new CloseableIterator<>() {
            private int batch = -1;
            private long firstRow;
            private int row;
            private int rows;
            private FieldVector ids;
            private FieldVector labels;
            private FieldVector positionIds;
            private boolean closed;

            @Override
            public boolean hasNext() {
                while (row == rows) {
                    if (closed || batch + 1 >= index.batches().size()) {
                        close();
                        return false;
                    }
                    firstRow += rows;
                    VectorSchemaRoot root = reader.load(++batch);
                    ids = root.getVector(INPUT_IDS);
                    labels = root.getVector(LABELS);
                    positionIds = positions ? root.getVector(POSITION_IDS) : null;
                    rows = root.getRowCount();
                    row = 0;
                }
                return true;
            }

            @Override
            public int[][] next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int r = row++;
                int[] in = VectorValues.intList(ids, r, file + ": " + INPUT_IDS);
                int[] lab = VectorValues.intList(labels, r, file + ": " + LABELS);
                int[] pos = positions ? VectorValues.intList(positionIds, r, file + ": " + POSITION_IDS) : null;
                if (in == null || lab == null || in.length != lab.length || (pos != null && pos.length != in.length)) {
                    throw new DatasetException(file + ": example " + (firstRow + r)
                            + " has null or mismatched input_ids/labels/position_ids; rebuild the cache");
                }
                return new int[][] {in, lab, pos};
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    rows = row = 0;
                    reader.close();
                }
            }
        };
    }

    /** Examples in the cache, from the batch headers. */
    public static long count(Path file) {
        return IpcIndex.read(file).numRows();
    }

    /** The metadata stored by {@link #write(Path, Iterator, Map)}. */
    public static Map<String, String> metadata(Path file) {
        Map<String, String> m = IpcIndex.read(file).schema().getCustomMetadata();
        return m == null ? Map.of() : Map.copyOf(m);
    }

    private static boolean requireIntList(Path file, Schema schema, String name, boolean required) {
        Field f = schema.getFields().stream().filter(x -> x.getName().equals(name)).findFirst().orElse(null);
        if (f == null) {
            if (required) {
                throw new DatasetException(file + ": no column '" + name + "'; a tokenized cache has list<int32> "
                        + "columns input_ids and labels (found: " + ArrowTypes.describe(schema).replace("\n", ", ")
                        + "); rebuild the cache");
            }
            return false;
        }
        if (!ColumnType.LIST_OF_INT.accepts(f) || f.getDictionary() != null) {
            throw new DatasetException(file + ": column '" + name + "' is " + ArrowTypes.describe(f)
                    + " but a tokenized cache needs list<int32>; rebuild the cache");
        }
        return true;
    }
}
