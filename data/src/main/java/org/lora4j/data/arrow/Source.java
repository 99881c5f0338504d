package org.lora4j.data.arrow;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Where a dataset's rows live (Arrow IPC shards, a JSON or CSV file), cut into chunks that can be read in any
 * order: the record batches of Arrow files, runs of {@link TextSource#CHUNK_ROWS} rows of a text file.
 */
interface Source {

    /** A chunk: file {@code file} of {@link #files()}, its {@code ordinal}-th chunk, rows [firstRow, firstRow+rows). */
    record Chunk(int file, int ordinal, long offset, int rows, long firstRow) {}

    /** Reads chunks one at a time; holds files and Arrow memory until closed. */
    interface ChunkReader extends AutoCloseable {
        /** Makes {@code chunk} current; the previous chunk's memory is released. */
        void load(Chunk chunk);

        /** Row {@code row} (0-based within the current chunk), every value copied out, all columns present. */
        Map<String, Object> values(int row);

        @Override
        void close();
    }

    /** What the rows come from, as opened (a file or a folder). */
    Path path();

    /** A short format name for messages: "save_to_disk", "arrow stream", "arrow file", "jsonl", "json", "csv". */
    String format();

    /** The data files, in row order. */
    List<Path> files();

    /** Column names and types, validated before any row is read (for text files: inferred over the whole file). */
    Schema schema();

    /** Every chunk in storage order. */
    List<Chunk> chunks();

    ChunkReader open();
}
