package org.lora4j.adapters.safetensors;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes safetensors files (https://github.com/huggingface/safetensors, "format") the way the reference Rust writer
 * does: the JSON header lists {@code "__metadata__"} first, then the tensors in layout order (widest dtype first,
 * then by name, so every tensor is aligned to its element size), padded with spaces to a multiple of 8 bytes.
 * Tensor data is produced lazily, one tensor in memory at a time, and narrowed to F16/BF16 with round to nearest
 * even ({@link Float16}). Every file is written to a temporary file in the same folder, fsynced, then renamed over the
 * target, so a crash or a failing data supplier leaves the old file or the new one, never half.
 */
public final class SafetensorsWriter {

    /** A tensor to write; {@code data} is called once, when its bytes are written, and must give numel floats. */
    public record Tensor(String name, DType dtype, long[] shape, Supplier<float[]> data) {
        public Tensor {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        long numel() {
            return new TensorInfo(name, dtype, shape, 0, 0).numel();
        }

        long byteLength() {
            return numel() * dtype.byteSize();
        }
    }

    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");
    private static final int CHUNK_BYTES = 1 << 20;

    private SafetensorsWriter() {
    }

    /** Writes {@code tensors} (F32, F16 or BF16) and {@code metadata} (may be empty or null) into {@code file}. */
    public static void write(Path file, List<Tensor> tensors, Map<String, String> metadata) {
        validate(file, tensors, metadata);
        List<Tensor> layout = new ArrayList<>(tensors);
        layout.sort(Comparator.comparingInt((Tensor t) -> -t.dtype().rustOrder()).thenComparing(Tensor::name));
        byte[] header = header(file, layout, metadata);
        writeAtomically(file, ch -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(header.length);
            buf.flip();
            writeFully(ch, buf);
            writeFully(ch, ByteBuffer.wrap(header));
            for (Tensor t : layout) {
                float[] data = produce(file, t);
                buf.clear();
                for (float v : data) {
                    if (buf.remaining() < 4) {
                        buf.flip();
                        writeFully(ch, buf);
                        buf.clear();
                    }
                    switch (t.dtype()) {
                        case F32 -> buf.putFloat(v);
                        case F16 -> buf.putShort(Float16.floatToHalf(v));
                        case BF16 -> buf.putShort(Float16.floatToBf16(v));
                        default -> throw new AssertionError(t.dtype());
                    }
                }
                buf.flip();
                writeFully(ch, buf);
            }
        });
    }

    /**
     * Writes a Hugging Face model folder: if all tensors fit in {@code maxShardBytes}, one {@code model.safetensors};
     * otherwise {@code model-00001-of-0000N.safetensors} shards (filled in list order; a tensor larger than the limit
     * gets a shard of its own) plus {@code model.safetensors.index.json}. Weight files of an earlier save that the new
     * set does not overwrite are deleted afterwards, so the folder never mixes two saves.
     *
     * @return the files written: the shards, then the index if there is one
     */
    public static List<Path> writeSharded(Path dir, List<Tensor> tensors, Map<String, String> metadata,
                                          long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new CheckpointException("maxShardBytes is " + maxShardBytes + " for " + dir
                    + "; expected a positive byte count such as 5000000000 (5 GB, the Hugging Face default)");
        }
        validate(dir.resolve(Checkpoint.SINGLE_FILE), tensors, metadata);
        List<List<Tensor>> shards = new ArrayList<>();
        List<Tensor> current = new ArrayList<>();
        long currentBytes = 0;
        for (Tensor t : tensors) {
            if (!current.isEmpty() && currentBytes + t.byteLength() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(t);
            currentBytes += t.byteLength();
        }
        shards.add(current);

        List<Path> written = new ArrayList<>();
        if (shards.size() == 1) {
            Path file = dir.resolve(Checkpoint.SINGLE_FILE);
            write(file, shards.get(0), metadata);
            written.add(file);
        } else {
            ObjectNode index = SafetensorsHeader.JSON.createObjectNode();
            index.putObject("metadata").put("total_size", tensors.stream().mapToLong(Tensor::byteLength).sum());
            Map<String, String> weightMap = new TreeMap<>();
            for (int i = 0; i < shards.size(); i++) {
                String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
                write(dir.resolve(name), shards.get(i), metadata);
                written.add(dir.resolve(name));
                shards.get(i).forEach(t -> weightMap.put(t.name(), name));
            }
            ObjectNode wm = index.putObject("weight_map");
            weightMap.forEach(wm::put);
            Path indexFile = dir.resolve(Checkpoint.INDEX_FILE);
            byte[] json = indexJson(index);
            writeAtomically(indexFile, ch -> writeFully(ch, ByteBuffer.wrap(json)));
            written.add(indexFile);
        }
        deleteStaleWeights(dir, written);
        return written;
    }

    private static void validate(Path file, List<Tensor> tensors, Map<String, String> metadata) {
        Set<String> seen = new HashSet<>();
        for (Tensor t : tensors) {
            String where = "tensor '" + t.name() + "' for " + file;
            if (t.name() == null || t.name().isEmpty() || t.name().equals(SafetensorsHeader.METADATA_KEY)) {
                throw new CheckpointException(where + ": the name is empty or reserved; give the tensor a real name");
            }
            if (!seen.add(t.name())) {
                throw new CheckpointException(where + ": the name appears twice; every tensor needs its own name");
            }
            if (t.dtype() != DType.F32 && t.dtype() != DType.F16 && t.dtype() != DType.BF16) {
                throw new CheckpointException(where + ": dtype " + t.dtype() + " cannot be written from floats;"
                        + " expected F32, F16 or BF16");
            }
            if (Arrays.stream(t.shape()).anyMatch(d -> d < 0)) {
                throw new CheckpointException(where + ": shape " + Arrays.toString(t.shape())
                        + " has a negative dimension; expected sizes >= 0");
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(t.numel(), t.dtype().byteSize());
            } catch (ArithmeticException e) {
                bytes = Long.MAX_VALUE;
            }
            if (bytes > Integer.MAX_VALUE) {
                throw new CheckpointException(where + ": shape " + Arrays.toString(t.shape()) + " of " + t.dtype()
                        + " is " + (bytes == Long.MAX_VALUE ? "over 2^63" : bytes) + " bytes; a tensor is limited to "
                        + Integer.MAX_VALUE + " bytes (2 GiB); split it into smaller tensors");
            }
        }
        if (metadata != null && metadata.entrySet().stream().anyMatch(e -> e.getKey() == null || e.getValue() == null)) {
            throw new CheckpointException("metadata for " + file + " has a null key or value: " + metadata
                    + "; safetensors metadata maps strings to strings");
        }
    }

    private static float[] produce(Path file, Tensor t) {
        float[] data;
        try {
            data = t.data().get();
        } catch (RuntimeException e) {
            throw new CheckpointException("producing tensor '" + t.name() + "' for " + file + " failed (" + e
                    + "); nothing was written: " + file + " is unchanged", e);
        }
        if (data == null || data.length != t.numel()) {
            throw new CheckpointException("tensor '" + t.name() + "' for " + file + " has shape "
                    + Arrays.toString(t.shape()) + ", so " + t.numel() + " values were expected, but its supplier gave "
                    + (data == null ? "null" : data.length + " values") + "; nothing was written: " + file
                    + " is unchanged");
        }
        return data;
    }

    /** The padded header: compact JSON, then spaces up to a multiple of 8 bytes (as the Rust crate pads). */
    private static byte[] header(Path file, List<Tensor> layout, Map<String, String> metadata) {
        ObjectNode root = SafetensorsHeader.JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsHeader.METADATA_KEY);
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Tensor t : layout) {
            ObjectNode entry = root.putObject(t.name());
            entry.put("dtype", t.dtype().name());
            Arrays.stream(t.shape()).forEach(entry.putArray("shape")::add);
            entry.putArray("data_offsets").add(offset).add(offset + t.byteLength());
            offset += t.byteLength();
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        if (padded > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new CheckpointException("the header for " + file + " would be " + padded + " bytes; readers refuse"
                    + " headers over " + SafetensorsHeader.MAX_HEADER_BYTES + " bytes; write fewer tensors per file");
        }
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Like Python's {@code json.dumps(index, indent=2)}, as transformers writes the index, plus a final newline. */
    private static byte[] indexJson(ObjectNode index) {
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                .withObjectIndenter(new DefaultIndenter("  ", "\n"));
        try {
            return (SafetensorsHeader.JSON.writer(pp).writeValueAsString(index) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CheckpointException("cannot serialize the shard index: " + e.getMessage(), e);
        }
    }

    private static void deleteStaleWeights(Path dir, List<Path> written) {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                boolean weights = n.equals(Checkpoint.SINGLE_FILE) || n.equals(Checkpoint.INDEX_FILE)
                        || SHARD_NAME.matcher(n).matches();
                if (weights && !written.contains(p)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new CheckpointException("the new weights are in " + dir + ", but removing the previous save's weight"
                    + " files failed (" + e + "); delete the files not listed in " + Checkpoint.INDEX_FILE + " by hand", e);
        }
    }

    @FunctionalInterface
    private interface Body {
        void writeTo(FileChannel ch) throws IOException;
    }

    /** Writes a temporary file next to {@code file}, fsyncs it, renames it over {@code file}, fsyncs the folder. */
    private static void writeAtomically(Path file, Body body) {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = null;
        boolean existed = Files.exists(target);
        try {
            Files.createDirectories(dir);
            FileChannel ch = null;
            while (ch == null) {
                tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(
                        ThreadLocalRandom.current().nextLong() >>> 1) + ".tmp");
                try {
                    ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException retry) {
                    tmp = null;
                }
            }
            try (FileChannel c = ch) {
                body.writeTo(c);
                c.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            syncFolder(dir);
        } catch (IOException e) {
            throw new CheckpointException("writing " + file + " failed (" + e + "); " + (existed
                    ? "the previous file is unchanged" : "nothing was written") + "; check free disk space and"
                    + " permissions of " + dir, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a stray hidden .tmp file is harmless, and the original error matters more
                }
            }
        }
    }

    /** Makes the rename durable; folders cannot be opened for fsync on every platform, so failure is ignored. */
    private static void syncFolder(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // e.g. Windows: the rename itself is still atomic
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
