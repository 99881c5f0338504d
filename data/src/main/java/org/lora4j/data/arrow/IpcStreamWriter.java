package org.lora4j.data.arrow;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Writes one Arrow IPC stream file (the format Hugging Face {@code datasets} reads) batch by batch: the caller
 * fills row {@link #row()} of {@link #root()} and calls {@link #endRow}; a batch is written when it reaches
 * {@code batchRows} rows or {@code batchBytes} estimated bytes, then its memory is reused. Owns a named child
 * allocator; {@link #finish()} writes the end-of-stream marker and flushes to disk.
 */
final class IpcStreamWriter implements AutoCloseable {
    private final Path file;
    private final BufferAllocator allocator;
    private final FileChannel channel;
    private final Counting counting;
    private final VectorSchemaRoot root;
    private final ArrowStreamWriter writer;
    private final int batchRows;
    private final long batchBytes;
    private int row;
    private long pendingBytes;
    private long rows;
    private boolean finished;

    /** Counts and hashes what goes to the file. */
    private static final class Counting implements WritableByteChannel {
        private final WritableByteChannel out;
        private final MessageDigest digest;
        private long bytes;

        Counting(WritableByteChannel out) {
            this.out = out;
            try {
                this.digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            ByteBuffer view = src.duplicate();
            int n = out.write(src);
            view.limit(view.position() + n);
            digest.update(view);
            bytes += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return out.isOpen();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    IpcStreamWriter(Path file, Schema schema, int batchRows, long batchBytes) throws IOException {
        this.file = file;
        this.batchRows = batchRows;
        this.batchBytes = batchBytes;
        this.allocator = Allocators.child("arrow-writer:" + file.getFileName());
        FileChannel ch = null;
        VectorSchemaRoot r = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            this.counting = new Counting(ch);
            r = VectorSchemaRoot.create(schema, allocator);
            r.allocateNew();
            this.writer = new ArrowStreamWriter(r, null, counting);
            writer.start();
        } catch (IOException | RuntimeException e) {
            if (r != null) {
                r.close();
            }
            if (ch != null) {
                ch.close();
            }
            allocator.close();
            throw e;
        }
        this.channel = ch;
        this.root = r;
    }

    VectorSchemaRoot root() {
        return root;
    }

    /** The row being filled, within the current batch. */
    int row() {
        return row;
    }

    /** Rows ended so far, written or pending. */
    long rows() {
        return rows;
    }

    /** Bytes written to the file so far (whole batches; the pending batch is not counted). */
    long bytesWritten() {
        return counting.bytes;
    }

    /** SHA-256 of the bytes written (valid after {@link #finish()}). */
    byte[] digest() {
        return counting.digest.digest();
    }

    /** Ends the current row; {@code estimatedBytes} is its rough size, used to bound a batch's memory. */
    void endRow(long estimatedBytes) throws IOException {
        row++;
        rows++;
        pendingBytes += estimatedBytes;
        if (row >= batchRows || pendingBytes >= batchBytes) {
            flush();
        }
    }

    /** Writes the pending rows as one record batch. */
    void flush() throws IOException {
        if (row == 0) {
            return;
        }
        root.setRowCount(row);
        writer.writeBatch();
        root.allocateNew(); // releases the batch just written
        row = 0;
        pendingBytes = 0;
    }

    /** Writes the last batch and the end-of-stream marker and flushes the file to disk. */
    void finish() throws IOException {
        flush();
        writer.end();
        channel.force(true);
        finished = true;
    }

    boolean finished() {
        return finished;
    }

    Path file() {
        return file;
    }

    @Override
    public void close() {
        try {
            writer.close(); // ends the stream if finish() was not reached, closes the channel
        } catch (RuntimeException e) {
            if (finished) {
                throw e;
            }
            // after a failure the file is discarded; the failure that got us here matters more
        } finally {
            root.close();
            try {
                channel.close();
            } catch (IOException e) {
                // already closed by the writer, or failing after a failure
            }
            allocator.close();
        }
    }
}
