package org.lora4j.data.arrow;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.arrow.flatbuf.Block;
import org.apache.arrow.flatbuf.BodyCompression;
import org.apache.arrow.flatbuf.CompressionType;
import org.apache.arrow.flatbuf.DictionaryBatch;
import org.apache.arrow.flatbuf.Footer;
import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The message index of one Arrow IPC file, built by reading only message headers (Arrow columnar format,
 * "Encapsulated message format"): the schema, and where each record batch starts and how many rows it has.
 * Every length is checked against the file size before anything is allocated from it.
 *
 * <p>A stream is read message by message from byte 0; a file ("ARROW1" ... footer) through its footer, which lists
 * the schema and where each batch is. Hugging Face {@code datasets} writes streams.
 *
 * @param fileFormat true for the IPC file format, false for a stream
 * @param batches    record batches in file order
 */
record IpcIndex(Path path, boolean fileFormat, Schema schema, List<Batch> batches) {

    /**
     * One record batch: where its message starts, its row count, and the dictionary-batch offsets to load (in
     * order) before it: per dictionary id, its last replacement and the deltas after that.
     */
    record Batch(long offset, int rows, List<Long> dictionaryState) {}

    private static final byte[] FILE_MAGIC = "ARROW1".getBytes(StandardCharsets.US_ASCII);
    private static final int CONTINUATION = 0xFFFFFFFF;

    long numRows() {
        long n = 0;
        for (Batch b : batches) {
            n += b.rows();
        }
        return n;
    }

    /** True when the first bytes are the IPC file magic "ARROW1" or a stream's continuation marker FF FF FF FF. */
    static boolean hasArrowMagic(byte[] head) {
        return startsWith(head, FILE_MAGIC) || (head.length >= 4 && le32(head, 0) == CONTINUATION);
    }

    /** A pre-1.0 stream starts directly with its schema's metadata length (no continuation marker). */
    private static boolean looksLikeLegacyStream(byte[] head, long size) {
        return head.length >= 4 && le32(head, 0) > 0 && le32(head, 0) < Math.min(size - 4, 1 << 24);
    }

    static IpcIndex read(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return read(path, ch);
        } catch (NoSuchFileException e) {
            throw new DatasetException(path + ": no such file");
        } catch (IOException e) {
            throw new DatasetException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static IpcIndex read(Path path, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size == 0) {
            throw new DatasetException(path + ": the file is empty (0 bytes), not an Arrow IPC file; "
                    + "re-create it (a dataset with no rows still holds a schema)");
        }
        byte[] head = bytes(ch, 0, (int) Math.min(8, size));
        if (startsWith(head, FILE_MAGIC)) {
            return readFile(path, ch, size);
        }
        if (!hasArrowMagic(head) && !looksLikeLegacyStream(head, size)) {
            throw notArrow(path, head);
        }
        return readStream(path, ch, size);
    }

    /** One encapsulated message: where it starts, its prefix + metadata length, the parsed header, its body length. */
    private record Header(long pos, long headerBytes, Message message, long body) {
        long end() {
            return pos + headerBytes + body;
        }
    }

    /** The message at {@code pos}, lengths checked against {@code end}; null at an end-of-stream marker. */
    private static Header header(Path path, FileChannel ch, long pos, long end) throws IOException {
        if (end - pos < 4) {
            throw corrupt(path, "ends inside a message header at byte " + pos + ": the file is truncated");
        }
        int first = le32(bytes(ch, pos, 4), 0);
        int prefix = 4;
        long metaLength = first;
        if (first == CONTINUATION) {
            if (end - pos < 8) {
                throw corrupt(path, "ends inside a message header at byte " + pos + ": the file is truncated");
            }
            metaLength = le32(bytes(ch, pos + 4, 4), 0);
            prefix = 8;
        }
        if (metaLength == 0) {
            return null;
        }
        long remaining = end - pos - prefix;
        if (metaLength < 0 || metaLength > remaining) {
            throw corrupt(path, "has a message at byte " + pos + " declaring " + metaLength
                    + " bytes of metadata but only " + remaining + " bytes follow: the file is truncated or not Arrow IPC");
        }
        Message message = message(path, ch, pos + prefix, (int) metaLength);
        long body = message.bodyLength();
        if (body < 0 || body > remaining - metaLength) {
            throw corrupt(path, "has a message at byte " + pos + " declaring a " + body + "-byte body but only "
                    + (remaining - metaLength) + " bytes follow: the file is truncated");
        }
        return new Header(pos, prefix + metaLength, message, body);
    }

    /** A stream: schema, then dictionary and record batches, then an optional end-of-stream marker. */
    private static IpcIndex readStream(Path path, FileChannel ch, long end) throws IOException {
        Map<Long, List<Long>> dictionaries = new LinkedHashMap<>();
        List<Long> state = List.of();
        boolean stateChanged = false;
        Set<Long> dictionaryIds = new HashSet<>();
        Schema schema = null;
        List<Batch> batches = new ArrayList<>();
        long pos = 0;
        while (pos < end) {
            Header h = header(path, ch, pos, end);
            if (h == null) {
                break; // end-of-stream marker
            }
            byte type = h.message().headerType();
            if (schema == null && type != MessageHeader.Schema) {
                throw corrupt(path, "does not start with a schema message (found " + MessageHeader.name(type) + ")");
            }
            if (type == MessageHeader.Schema) {
                if (schema != null) {
                    throw corrupt(path, "holds a second schema message at byte " + pos);
                }
                try {
                    schema = MessageSerializer.deserializeSchema(h.message());
                } catch (RuntimeException e) {
                    throw corrupt(path, "has an unreadable schema message (" + e + ")");
                }
                schema(path, schema);
                collectDictionaryIds(schema.getFields(), dictionaryIds);
            } else if (type == MessageHeader.DictionaryBatch) {
                DictionaryBatch d = dictionaryBatch(path, h, dictionaryIds);
                if (d.isDelta()) {
                    if (!dictionaries.containsKey(d.id())) {
                        throw corrupt(path, "has a delta for dictionary " + d.id() + " before the dictionary itself");
                    }
                    dictionaries.get(d.id()).add(pos);
                } else {
                    dictionaries.put(d.id(), new ArrayList<>(List.of(pos)));
                }
                stateChanged = true;
            } else if (type == MessageHeader.RecordBatch) {
                if (stateChanged) {
                    List<Long> s = new ArrayList<>();
                    dictionaries.values().forEach(s::addAll);
                    state = List.copyOf(s);
                    stateChanged = false;
                }
                batches.add(new Batch(pos, recordBatchRows(path, h), state));
            } else {
                throw corrupt(path, "holds a " + MessageHeader.name(type) + " message at byte " + pos
                        + "; a dataset holds only a schema, dictionaries and record batches");
            }
            pos = h.end();
        }
        if (schema == null) {
            throw corrupt(path, "holds no schema message");
        }
        return new IpcIndex(path, false, schema, List.copyOf(batches));
    }

    /**
     * A file: "ARROW1", padding, messages, footer (schema + where the dictionary and record batches are),
     * footer length, "ARROW1". Writers need not repeat the schema as a message (apache-arrow JS does not).
     */
    private static IpcIndex readFile(Path path, FileChannel ch, long size) throws IOException {
        byte[] tail = size >= 18 ? bytes(ch, size - 10, 10) : new byte[0];
        if (tail.length < 10 || !startsWith(java.util.Arrays.copyOfRange(tail, 4, 10), FILE_MAGIC)) {
            throw corrupt(path, "starts with the Arrow file magic \"ARROW1\" but does not end with it: the file is truncated");
        }
        long footerLength = le32(tail, 0) & 0xFFFFFFFFL;
        long footerStart = size - 10 - footerLength;
        if (footerLength == 0 || footerStart < 8) {
            throw corrupt(path, "declares a " + footerLength + "-byte footer in a " + size + "-byte file");
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) footerLength).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, buffer, footerStart);
        buffer.flip();
        Footer footer;
        Schema schema;
        try {
            footer = Footer.getRootAsFooter(buffer);
            schema = Schema.convertSchema(footer.schema());
        } catch (RuntimeException e) {
            throw corrupt(path, "has an unreadable footer (" + e + ")");
        }
        schema(path, schema);
        Set<Long> dictionaryIds = new HashSet<>();
        collectDictionaryIds(schema.getFields(), dictionaryIds);
        List<Long> state = new ArrayList<>();
        for (int i = 0; i < footer.dictionariesLength(); i++) {
            Header h = block(path, ch, footer.dictionaries(i), footerStart, MessageHeader.DictionaryBatch);
            dictionaryBatch(path, h, dictionaryIds);
            state.add(h.pos());
        }
        List<Batch> batches = new ArrayList<>();
        for (int i = 0; i < footer.recordBatchesLength(); i++) {
            Header h = block(path, ch, footer.recordBatches(i), footerStart, MessageHeader.RecordBatch);
            batches.add(new Batch(h.pos(), recordBatchRows(path, h), List.copyOf(state)));
        }
        return new IpcIndex(path, true, schema, List.copyOf(batches));
    }

    private static Header block(Path path, FileChannel ch, Block block, long end, byte expected) throws IOException {
        long pos = block.offset();
        if (pos < 8 || pos >= end) {
            throw corrupt(path, "lists a block at byte " + pos + ", outside the data section [8, " + end + ")");
        }
        Header h = header(path, ch, pos, end);
        if (h == null || h.message().headerType() != expected) {
            throw corrupt(path, "lists a " + MessageHeader.name(expected) + " at byte " + pos + " but "
                    + (h == null ? "an end-of-stream marker" : "a " + MessageHeader.name(h.message().headerType())) + " is there");
        }
        return h;
    }

    private static DictionaryBatch dictionaryBatch(Path path, Header h, Set<Long> dictionaryIds) {
        DictionaryBatch d = (DictionaryBatch) h.message().header(new DictionaryBatch());
        if (!dictionaryIds.contains(d.id())) {
            throw corrupt(path, "has a dictionary batch for id " + d.id() + ", which no column of the schema uses");
        }
        checkBuffers(path, h.pos(), d.data(), h.body());
        return d;
    }

    private static int recordBatchRows(Path path, Header h) {
        RecordBatch rb = (RecordBatch) h.message().header(new RecordBatch());
        checkBuffers(path, h.pos(), rb, h.body());
        if (rb.length() > Integer.MAX_VALUE) {
            throw corrupt(path, "has a record batch of " + rb.length() + " rows at byte " + h.pos()
                    + "; lora4j reads batches of at most 2^31-1 rows");
        }
        return (int) rb.length();
    }

    private static Message message(Path path, FileChannel ch, long pos, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, buffer, pos);
        buffer.flip();
        try {
            Message m = Message.getRootAsMessage(buffer);
            m.headerType();
            m.bodyLength();
            return m;
        } catch (RuntimeException e) {
            throw corrupt(path, "has an unreadable message header at byte " + pos + " (" + e + ")");
        }
    }

    /** Checks that lora4j can read every column; returns the schema. */
    private static Schema schema(Path path, Schema schema) {
        for (Field f : schema.getFields()) {
            String bad = ArrowTypes.unreadableType(f);
            if (bad != null) {
                throw new DatasetException(path + ": column '" + f.getName() + "' has type " + bad
                        + ", which lora4j cannot read; drop or cast that column before saving the dataset");
            }
        }
        return schema;
    }

    private static void checkBuffers(Path path, long pos, RecordBatch rb, long body) {
        if (rb == null) {
            throw corrupt(path, "has a dictionary batch without data at byte " + pos);
        }
        BodyCompression compression = rb.compression();
        if (compression != null) {
            throw new DatasetException(path + ": record batches are compressed with "
                    + CompressionType.name(compression.codec()) + ", which lora4j cannot decompress; rewrite the file "
                    + "uncompressed (pyarrow: compression=None / feather.write_feather(..., compression='uncompressed'))");
        }
        if (rb.length() < 0) {
            throw corrupt(path, "has a record batch with a negative row count at byte " + pos);
        }
        for (int i = 0; i < rb.buffersLength(); i++) {
            org.apache.arrow.flatbuf.Buffer b = rb.buffers(i);
            if (b.offset() < 0 || b.length() < 0 || b.offset() + b.length() > body) {
                throw corrupt(path, "has a record batch at byte " + pos + " whose buffer " + i + " ["
                        + b.offset() + ", +" + b.length() + ") lies outside its " + body + "-byte body");
            }
        }
        for (int i = 0; i < rb.nodesLength(); i++) {
            if (rb.nodes(i).length() < 0 || rb.nodes(i).nullCount() < 0 || rb.nodes(i).nullCount() > rb.nodes(i).length()) {
                throw corrupt(path, "has a record batch at byte " + pos + " with an invalid field node " + i);
            }
        }
    }

    private static void collectDictionaryIds(List<Field> fields, Set<Long> out) {
        for (Field f : fields) {
            if (f.getDictionary() != null) {
                out.add(f.getDictionary().getId());
            }
            collectDictionaryIds(f.getChildren(), out);
        }
    }

    static DatasetException corrupt(Path path, String what) {
        return new DatasetException(path + ": not a readable Arrow IPC file: it " + what);
    }

    private static DatasetException notArrow(Path path, byte[] head) {
        String kind = startsWith(head, "FEA1".getBytes(StandardCharsets.US_ASCII))
                ? "a Feather V1 file; rewrite it as Feather V2 (pyarrow.feather.write_feather(df, path, version=2))"
                : startsWith(head, "PAR1".getBytes(StandardCharsets.US_ASCII))
                ? "a Parquet file; convert it to Arrow, e.g. datasets.load_dataset('parquet', ...).save_to_disk(...)"
                : "neither an Arrow IPC stream (starts with FF FF FF FF) nor an Arrow IPC file (starts with \"ARROW1\")";
        return new DatasetException(path + ": not an Arrow dataset file: it is " + kind);
    }

    static byte[] bytes(FileChannel ch, long pos, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        readFully(ch, b, pos);
        return b.array();
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos + b.position());
            if (r < 0) {
                throw new IOException("unexpected end of file at byte " + (pos + b.position()));
            }
        }
    }

    static int le32(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Reads the first bytes of a file for format detection. */
    static byte[] head(Path path, int n) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return bytes(ch, 0, (int) Math.min(n, ch.size()));
        } catch (NoSuchFileException e) {
            throw new DatasetException(path + ": no such file");
        } catch (IOException e) {
            throw new DatasetException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    static long size(Path path) {
        try {
            return Files.size(path);
        } catch (IOException e) {
            throw new DatasetException(path + ": cannot read: " + e.getMessage(), e);
        }
    }
}
