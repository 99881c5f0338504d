package org.lora4j.data.arrow;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.ipc.message.MessageMetadataResult;
import org.apache.arrow.vector.ipc.message.MessageSerializer;

/**
 * Loads record batches of one indexed Arrow IPC file in any order, one at a time, into a reused
 * {@link VectorSchemaRoot}. Owns a named child allocator, the file channel and the root; close it.
 *
 * <p>Files use Arrow's {@link ArrowFileReader} (footer blocks). Random access works on streams too: the index
 * knows where each batch's message starts, and before a batch the dictionaries it needs (its "dictionary
 * state") are loaded when they differ from the ones loaded.
 */
final class IpcReader implements AutoCloseable {
    private final IpcIndex index;
    private final BufferAllocator allocator;
    private final FileChannel channel;
    private final ArrowReader reader;
    private final List<ArrowBlock> blocks;   // file format only
    private final VectorSchemaRoot root;
    private final List<FieldVector> columns;
    private List<Long> loadedDictionaries = List.of();

    /** ArrowStreamReader with access to its protected dictionary loading. */
    private static final class StreamReader extends ArrowStreamReader {
        private final ReadChannel in;

        StreamReader(FileChannel channel, BufferAllocator allocator) {
            super(channel, allocator);
            this.in = new ReadChannel(channel);
        }

        void loadDictionaryMessage() throws IOException {
            MessageMetadataResult meta = MessageSerializer.readMessage(in);
            ArrowBuf body = MessageSerializer.readMessageBody(in, meta.getMessageBodyLength(), allocator);
            // deserializing takes over the body's reference; loading closes the batch
            loadDictionary(MessageSerializer.deserializeDictionaryBatch(meta, body));
        }
    }

    IpcReader(IpcIndex index) {
        this.index = index;
        this.allocator = Allocators.child("arrow-reader:" + index.path().getFileName());
        FileChannel ch = null;
        ArrowReader r = null;
        try {
            ch = FileChannel.open(index.path(), StandardOpenOption.READ);
            if (index.fileFormat()) {
                ArrowFileReader fr = new ArrowFileReader(ch, allocator);
                r = fr;
                this.root = r.getVectorSchemaRoot(); // reads the footer
                this.blocks = fr.getRecordBlocks();
            } else {
                r = new StreamReader(ch, allocator);
                this.root = r.getVectorSchemaRoot(); // reads the schema message
                this.blocks = List.of();
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(r, ch, allocator);
            throw new DatasetException(index.path() + ": cannot read the schema: " + e.getMessage(), e);
        }
        this.channel = ch;
        this.reader = r;
        this.columns = new ArrayList<>(root.getFieldVectors());
    }

    IpcIndex index() {
        return index;
    }

    /** Loads batch {@code i} of the index into {@link #root()}; the previous batch's buffers are released. */
    VectorSchemaRoot load(int i) {
        IpcIndex.Batch batch = index.batches().get(i);
        try {
            if (index.fileFormat()) {
                if (!((ArrowFileReader) reader).loadRecordBatch(blocks.get(i))) { // loads all dictionaries first
                    throw new IOException("no record batch at byte " + batch.offset());
                }
            } else {
                StreamReader stream = (StreamReader) reader;
                if (!batch.dictionaryState().equals(loadedDictionaries)) {
                    for (long offset : batch.dictionaryState()) {
                        channel.position(offset);
                        stream.loadDictionaryMessage();
                    }
                    loadedDictionaries = batch.dictionaryState();
                }
                channel.position(batch.offset());
                if (!stream.loadNextBatch()) {
                    throw new IOException("no record batch at byte " + batch.offset());
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new DatasetException(index.path() + ": cannot read record batch " + i + " (at byte " + batch.offset()
                    + "): " + e.getMessage() + "; the file is corrupt or was changed while reading", e);
        }
        if (root.getRowCount() != batch.rows()) {
            throw new DatasetException(index.path() + ": record batch " + i + " has " + root.getRowCount()
                    + " rows but its header said " + batch.rows());
        }
        return root;
    }

    VectorSchemaRoot root() {
        return root;
    }

    /** Row {@code row} of the loaded batch, every value copied out. */
    Map<String, Object> values(int row) {
        Map<String, Object> out = new LinkedHashMap<>(columns.size() * 2);
        for (FieldVector v : columns) {
            try {
                out.put(v.getName(), VectorValues.read(v, row, reader));
            } catch (DatasetException e) {
                throw new DatasetException(index.path() + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new DatasetException(index.path() + ": cannot read column '" + v.getName() + "' at row "
                        + row + " of the current batch: " + e, e);
            }
        }
        return out;
    }

    @Override
    public void close() {
        closeQuietly(reader, channel, allocator);
    }

    private static void closeQuietly(ArrowReader r, FileChannel ch, BufferAllocator allocator) {
        try {
            if (r != null) {
                r.close(); // root, dictionaries and channel
            }
            if (ch != null) {
                ch.close();
            }
        } catch (IOException e) {
            // nothing was written; the read already succeeded or already failed
        } finally {
            allocator.close();
        }
    }
}
