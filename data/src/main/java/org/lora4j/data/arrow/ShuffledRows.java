package org.lora4j.data.arrow;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;

/**
 * A seeded shuffle of a dataset that never holds more than a window of rows: the chunks (record batches) are
 * visited in a random order, and the rows of each window of consecutive visited chunks (at least
 * {@code windowRows} rows) are shuffled together. The order depends only on the seed, the chunk sizes and
 * the window.
 *
 * <p>Every row is returned exactly once. Two rows can only swap across chunks within one window, so chunks
 * much smaller than the window mix well; with one huge chunk the shuffle is complete but needs that chunk in
 * memory.
 */
final class ShuffledRows implements CloseableIterator<Row> {
    private final List<Source.Chunk> chunks;
    private final Source.ChunkReader reader;
    private final int[] order;
    private final Random random;
    private final int windowRows;
    private int nextChunk;
    private List<Row> window = List.of();
    private int nextRow;
    private boolean closed;

    ShuffledRows(List<Source.Chunk> chunks, Source.ChunkReader reader, long seed, int windowRows) {
        if (windowRows < 1) {
            throw new IllegalArgumentException("windowRows must be at least 1, got " + windowRows);
        }
        this.chunks = chunks;
        this.reader = reader;
        this.windowRows = windowRows;
        this.random = new Random(seed);
        this.order = new int[chunks.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        for (int i = order.length - 1; i > 0; i--) { // Fisher-Yates
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    @Override
    public boolean hasNext() {
        while (nextRow == window.size()) {
            if (closed || nextChunk == order.length) {
                close(); // release the last batch as soon as the end is reached
                return false;
            }
            fillWindow();
        }
        return true;
    }

    private void fillWindow() {
        List<Row> rows = new ArrayList<>();
        window = List.of(); // let the old window go before the new one is read
        while (nextChunk < order.length && (rows.isEmpty() || rows.size() < windowRows)) {
            Source.Chunk chunk = chunks.get(order[nextChunk++]);
            reader.load(chunk);
            for (int r = 0; r < chunk.rows(); r++) {
                rows.add(new Row(chunk.firstRow() + r, reader.values(r)));
            }
        }
        for (int i = rows.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            Row t = rows.get(i);
            rows.set(i, rows.get(j));
            rows.set(j, t);
        }
        window = rows;
        nextRow = 0;
    }

    @Override
    public Row next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return window.get(nextRow++);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            window = List.of();
            nextRow = 0;
            reader.close();
        }
    }
}
