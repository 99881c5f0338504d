package org.lora4j.adapters.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One safetensors file (https://github.com/huggingface/safetensors, "format"), opened for reading.
 * {@link #open} reads and validates the whole header (see {@link SafetensorsHeader}); tensor bytes are memory-mapped
 * one tensor at a time, on demand, so files larger than 2 GiB work and only the tensors asked for are touched.
 * Not thread-safe to close while another thread reads; reads from several threads are fine.
 */
public final class SafetensorsFile implements AutoCloseable {

    private final Path path;
    private final FileChannel channel;
    private final long fileSize;
    private final SafetensorsHeader header;
    private final List<String> names;
    private volatile boolean closed;

    private SafetensorsFile(Path path, FileChannel channel, long fileSize, SafetensorsHeader header) {
        this.path = path;
        this.channel = channel;
        this.fileSize = fileSize;
        this.header = header;
        this.names = List.copyOf(header.tensors().keySet());
    }

    /** Opens {@code file} and validates its header; throws {@link CheckpointException} saying what is wrong. */
    public static SafetensorsFile open(Path file) {
        if (Files.isDirectory(file)) {
            throw new CheckpointException(file + " is a folder, not a .safetensors file; open a model folder with"
                    + " Checkpoint.open(dir)");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + " does not exist; check the path", e);
        } catch (IOException e) {
            throw new CheckpointException(file + " cannot be opened for reading (" + e + "); check its permissions", e);
        }
        try {
            return new SafetensorsFile(file, ch, ch.size(), SafetensorsHeader.read(file, ch));
        } catch (IOException e) {
            closeQuietly(ch);
            throw new CheckpointException(file + ": reading the header failed (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** The header's {@code "__metadata__"} (e.g. {"format": "pt"}); empty when absent. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** Tensor names in the order of the header. */
    public List<String> names() {
        return names;
    }

    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    /** The header entry of {@code name}; offsets are relative to the start of the data section. */
    public TensorInfo info(String name) {
        TensorInfo t = header.tensors().get(name);
        if (t == null) {
            throw new CheckpointException(notFound(name, names, path.toString()));
        }
        return t;
    }

    /** Offset of the data section in the file: 8 + header length. */
    public long dataStart() {
        return header.dataStart();
    }

    /**
     * The tensor's values as floats, row-major, widened from F32, F16, BF16 or F64 (F64 is rounded).
     * Integer and bool tensors are refused: read them with {@link #rawBytes}.
     */
    public float[] readFloat32(String name) {
        TensorInfo t = info(name);
        if (!t.dtype().isFloat()) {
            throw new CheckpointException("tensor '" + name + "' in " + path + " is " + t.dtype()
                    + "; readFloat32 reads F64, F32, F16 and BF16 tensors; read integer tensors with rawBytes(name)");
        }
        ByteBuffer b = map(t);
        float[] out = new float[Math.toIntExact(t.numel())];
        switch (t.dtype()) {
            case F32 -> {
                FloatBuffer fb = b.asFloatBuffer();
                fb.get(out);
            }
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float16.halfToFloat(b.getShort(2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float16.bf16ToFloat(b.getShort(2 * i));
                }
            }
            case F64 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) b.getDouble(8 * i);
                }
            }
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    /**
     * Reads the tensor's values as float32 into {@code dst} (from its position, native byte order), widened from
     * F32, F16, BF16 or F64 like {@link #readFloat32}, with positional reads: no heap copy of the tensor and no file
     * mapping left resident until a GC (what loading a model through float[] arrays cost: the tensors' size twice
     * over in the resident set). {@code dst} must have room for {@code numel · 4} bytes.
     */
    public void readFloat32Into(String name, ByteBuffer dst) {
        TensorInfo t = info(name);
        if (!t.dtype().isFloat()) {
            throw new CheckpointException("tensor '" + name + "' in " + path + " is " + t.dtype()
                    + "; readFloat32Into reads F64, F32, F16 and BF16 tensors; read integer tensors with rawBytes(name)");
        }
        if (closed) {
            throw new CheckpointException(path + " is closed; cannot read tensor '" + name + "'");
        }
        long numel = t.numel();
        if (dst.remaining() < numel * 4) {
            throw new IllegalArgumentException("tensor '" + name + "' needs " + numel * 4 + " bytes; the buffer has "
                    + dst.remaining());
        }
        long start = header.dataStart() + t.begin();
        ByteBuffer out = dst.duplicate().order(ByteOrder.nativeOrder());
        try {
            if (t.dtype() == DType.F32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
                out.limit(out.position() + (int) t.byteLength());
                readFully(out, start);
                return;
            }
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            long done = 0;
            while (done < t.byteLength()) {
                chunk.clear();
                chunk.limit((int) Math.min(chunk.capacity() - chunk.capacity() % 8, t.byteLength() - done));
                readFully(chunk, start + done);
                chunk.flip();
                while (chunk.hasRemaining()) {
                    float v = switch (t.dtype()) {
                        case F32 -> chunk.getFloat();
                        case F16 -> Float16.halfToFloat(chunk.getShort());
                        case BF16 -> Float16.bf16ToFloat(chunk.getShort());
                        case F64 -> (float) chunk.getDouble();
                        default -> throw new AssertionError(t.dtype());
                    };
                    out.putFloat(v);
                }
                done += chunk.limit();
            }
        } catch (IOException e) {
            throw new CheckpointException(path + ": reading tensor '" + name + "' (bytes [" + t.begin() + ", "
                    + t.end() + ") of the data section) failed: " + e, e);
        }
    }

    private void readFully(ByteBuffer into, long position) throws IOException {
        long size = channel.size();
        if (size != fileSize) {
            throw new CheckpointException(path + " changed size since it was opened (" + fileSize + " -> " + size
                    + " bytes); reopen it once whatever is writing it has finished");
        }
        long pos = position;
        while (into.hasRemaining()) {
            int n = channel.read(into, pos);
            if (n < 0) {
                throw new CheckpointException(path + " ended at byte " + pos + " while a tensor was being read; the"
                        + " file is truncated (re-download or re-export it)");
            }
            pos += n;
        }
    }

    /** The tensor's bytes: a read-only, little-endian buffer over the mapped file, position 0, limit byteLength. */
    public ByteBuffer rawBytes(String name) {
        return map(info(name));
    }

    private ByteBuffer map(TensorInfo t) {
        if (closed) {
            throw new CheckpointException(path + " is closed; cannot read tensor '" + t.name() + "'");
        }
        if (t.byteLength() > Integer.MAX_VALUE) {
            throw new CheckpointException("tensor '" + t.name() + "' in " + path + " is " + t.byteLength()
                    + " bytes; lora4j maps one tensor at a time and a Java buffer holds at most " + Integer.MAX_VALUE
                    + " bytes (2 GiB); re-export the checkpoint with this tensor split into smaller ones");
        }
        try {
            long size = channel.size();
            if (size != fileSize) {
                throw new CheckpointException(path + " changed size since it was opened (" + fileSize + " -> " + size
                        + " bytes); reopen it once whatever is writing it has finished");
            }
            return channel.map(FileChannel.MapMode.READ_ONLY, header.dataStart() + t.begin(), t.byteLength())
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new CheckpointException(path + ": mapping tensor '" + t.name() + "' (bytes [" + t.begin() + ", "
                    + t.end() + ") of the data section) failed: " + e, e);
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(channel);
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + names.size() + " tensors]";
    }

    /** "tensor 'x' not found in where", with a likely fix (a missing or extra "model." prefix) and some names. */
    static String notFound(String name, Collection<String> names, String where) {
        StringBuilder sb = new StringBuilder("tensor '").append(name).append("' not found in ").append(where);
        List<String> hints = new ArrayList<>();
        if (names.contains("model." + name)) {
            hints.add("model." + name);
        }
        if (name.startsWith("model.") && names.contains(name.substring(6))) {
            hints.add(name.substring(6));
        }
        if (!hints.isEmpty()) {
            sb.append("; did you mean '").append(String.join("' or '", hints)).append("'?");
        }
        sb.append("; it holds ").append(names.size()).append(" tensors");
        if (!names.isEmpty()) {
            sb.append(": ").append(names.stream().limit(8).collect(Collectors.joining(", ")))
                    .append(names.size() > 8 ? ", ..." : "");
        }
        return sb.toString();
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing was written through this channel, so there is nothing to lose
        }
    }
}
