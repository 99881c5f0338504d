package org.lora4j.data.arrow;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Rows of a text file (JSON, CSV), read without holding the file in memory. The first use scans the whole file
 * once: it checks the syntax, infers the column types, counts the rows and records the byte offset of every
 * {@link #CHUNK_ROWS}-th row, so that chunks can later be parsed on their own, in any order.
 */
abstract class TextSource implements Source {
    /** Rows per chunk: Hugging Face's default writer batch size. */
    static final int CHUNK_ROWS = 1000;
    static final int BUFFER = 1 << 16;

    /** The outcome of the scan. */
    record Scan(Schema schema, List<Chunk> chunks) {}

    protected final Path path;
    private Scan scan;

    TextSource(Path path) {
        this.path = path;
    }

    /** Reads the whole file once; see the class comment. */
    protected abstract Scan scan() throws IOException;

    /** Parses {@code chunk.rows()} rows starting at {@code chunk.offset()}, conformed to {@link #schema()}. */
    protected abstract List<Map<String, Object>> parse(Chunk chunk, InputStream in) throws IOException;

    private Scan scanned() {
        if (scan == null) {
            try {
                scan = scan();
            } catch (NoSuchFileException e) {
                throw new DatasetException(path + ": no such file");
            } catch (IOException e) {
                throw new DatasetException(path + ": cannot read: " + e.getMessage(), e);
            }
        }
        return scan;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public List<Path> files() {
        return List.of(path);
    }

    @Override
    public Schema schema() {
        return scanned().schema();
    }

    @Override
    public List<Chunk> chunks() {
        return scanned().chunks();
    }

    /** A buffered stream over the file from byte {@code offset}; the caller closes it. */
    protected InputStream openAt(long offset) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        ch.position(offset);
        return new BufferedInputStream(Channels.newInputStream(ch), BUFFER);
    }

    @Override
    public ChunkReader open() {
        scanned();
        return new ChunkReader() {
            private List<Map<String, Object>> rows = List.of();

            @Override
            public void load(Chunk chunk) {
                rows = List.of();
                try (InputStream in = openAt(chunk.offset())) {
                    rows = parse(chunk, in);
                } catch (IOException e) {
                    throw new DatasetException(path + ": cannot read rows " + chunk.firstRow() + ".."
                            + (chunk.firstRow() + chunk.rows() - 1) + ": " + e.getMessage(), e);
                }
                if (rows.size() != chunk.rows()) {
                    throw new DatasetException(path + ": found " + rows.size() + " rows where the first pass found "
                            + chunk.rows() + " (from row " + chunk.firstRow() + "); was the file changed while reading?");
                }
            }

            @Override
            public Map<String, Object> values(int row) {
                return rows.get(row);
            }

            @Override
            public void close() {
                rows = List.of();
            }
        };
    }
}
