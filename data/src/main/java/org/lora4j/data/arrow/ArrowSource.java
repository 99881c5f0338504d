package org.lora4j.data.arrow;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Rows stored in Arrow IPC files (stream or file format): one file, or the shards of a {@code save_to_disk}
 * folder. Opening indexes every file's message headers (no data is read) and checks that all shards have the
 * same columns.
 */
final class ArrowSource implements Source {
    /** At most this many shard files are held open at once by a shuffled read. */
    private static final int OPEN_FILES = 8;

    private final Path path;
    private final String format;
    private final List<IpcIndex> files;
    private final List<Chunk> chunks;

    ArrowSource(Path path, String format, List<Path> dataFiles) {
        this.path = path;
        this.format = format;
        this.files = new ArrayList<>();
        for (Path f : dataFiles) {
            files.add(IpcIndex.read(f));
        }
        String expected = ArrowTypes.describe(files.get(0).schema());
        for (IpcIndex f : files) {
            String found = ArrowTypes.describe(f.schema());
            if (!found.equals(expected)) {
                throw new DatasetException(path + ": the shards have different columns; "
                        + files.get(0).path().getFileName() + " has\n" + indent(expected) + "\nbut "
                        + f.path().getFileName() + " has\n" + indent(found) + "\nre-save the dataset from one table");
            }
        }
        List<Chunk> all = new ArrayList<>();
        long firstRow = 0;
        for (int fi = 0; fi < files.size(); fi++) {
            List<IpcIndex.Batch> batches = files.get(fi).batches();
            for (int b = 0; b < batches.size(); b++) {
                all.add(new Chunk(fi, b, batches.get(b).offset(), batches.get(b).rows(), firstRow));
                firstRow += batches.get(b).rows();
            }
        }
        this.chunks = List.copyOf(all);
    }

    private static String indent(String s) {
        return "  " + s.replace("\n", "\n  ");
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public String format() {
        return format;
    }

    @Override
    public List<Path> files() {
        return files.stream().map(IpcIndex::path).toList();
    }

    @Override
    public Schema schema() {
        return files.get(0).schema();
    }

    @Override
    public List<Chunk> chunks() {
        return chunks;
    }

    @Override
    public ChunkReader open() {
        return new ChunkReader() {
            // least recently used reader first; the eldest is closed when too many are open
            private final LinkedHashMap<Integer, IpcReader> readers = new LinkedHashMap<>(16, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<Integer, IpcReader> eldest) {
                    if (size() > OPEN_FILES) {
                        eldest.getValue().close();
                        return true;
                    }
                    return false;
                }
            };
            private IpcReader current;

            @Override
            public void load(Chunk chunk) {
                current = readers.get(chunk.file());
                if (current == null) {
                    current = new IpcReader(files.get(chunk.file()));
                    readers.put(chunk.file(), current);
                }
                current.load(chunk.ordinal());
            }

            @Override
            public Map<String, Object> values(int row) {
                return current.values(row);
            }

            @Override
            public void close() {
                DatasetException failure = null;
                for (IpcReader r : readers.values()) {
                    try {
                        r.close();
                    } catch (RuntimeException e) {
                        failure = failure != null ? failure : new DatasetException("closing " + r.index().path() + ": " + e, e);
                    }
                }
                readers.clear();
                current = null;
                if (failure != null) {
                    throw failure;
                }
            }
        };
    }
}
