package org.lora4j.data.arrow;

import java.util.List;
import java.util.NoSuchElementException;

/** The rows of a dataset in storage order, one chunk (record batch) in memory at a time. */
final class SequentialRows implements CloseableIterator<Row> {
    private final List<Source.Chunk> chunks;
    private final Source.ChunkReader reader;
    private int nextChunk;
    private Source.Chunk current;
    private int nextRow;
    private boolean closed;

    SequentialRows(List<Source.Chunk> chunks, Source.ChunkReader reader) {
        this.chunks = chunks;
        this.reader = reader;
    }

    @Override
    public boolean hasNext() {
        while (current == null || nextRow == current.rows()) {
            if (closed || nextChunk == chunks.size()) {
                if (!closed) {
                    close(); // release the last batch as soon as the end is reached
                }
                return false;
            }
            current = chunks.get(nextChunk++);
            reader.load(current);
            nextRow = 0;
        }
        return true;
    }

    @Override
    public Row next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        int r = nextRow++;
        return new Row(current.firstRow() + r, reader.values(r));
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            current = null;
            reader.close();
        }
    }
}
