package org.lora4j.trainer.optim;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.trainer.state.AtomicFiles;

/**
 * Writes optimizer moments as a safetensors file (https://github.com/huggingface/safetensors, "format") with their
 * exact bits, F32 or F64. {@code SafetensorsWriter} produces tensors from floats only, so it cannot keep DOUBLE
 * moments bitwise; reading goes through {@code SafetensorsFile}. Layout as the reference writer: metadata first,
 * then tensors widest dtype first, then by name (every tensor aligned to its element size), header padded with spaces
 * to a multiple of 8 bytes. Written atomically.
 */
final class MomentsFile {

    /** A tensor's little-endian bytes; {@code data.remaining()} must equal numel · dtype size. */
    record Tensor(String name, DType dtype, long[] shape, ByteBuffer data) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private MomentsFile() {
    }

    static ByteBuffer floats(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b;
    }

    static ByteBuffer doubles(double[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(values);
        return b;
    }

    static void write(Path file, List<Tensor> tensors, Map<String, String> metadata) {
        List<Tensor> layout = new ArrayList<>(tensors);
        layout.sort(Comparator.comparingInt((Tensor t) -> -t.dtype().byteSize()).thenComparing(Tensor::name));
        ObjectNode root = JSON.createObjectNode();
        ObjectNode meta = root.putObject("__metadata__");
        new TreeMap<>(metadata).forEach(meta::put);
        long offset = 0;
        for (Tensor t : layout) {
            long bytes = Arrays.stream(t.shape()).reduce(1, Math::multiplyExact) * t.dtype().byteSize();
            if (bytes != t.data().remaining()) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                        + " of " + t.dtype() + " (" + bytes + " bytes) but " + t.data().remaining() + " bytes of data");
            }
            ObjectNode e = root.putObject(t.name());
            e.put("dtype", t.dtype().name());
            Arrays.stream(t.shape()).forEach(e.putArray("shape")::add);
            e.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        byte[] header = Arrays.copyOf(json, (json.length + 7) & ~7);
        Arrays.fill(header, json.length, header.length, (byte) ' ');
        AtomicFiles.write(file, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            AtomicFiles.writeFully(ch, len);
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            for (Tensor t : layout) {
                AtomicFiles.writeFully(ch, t.data().duplicate());
            }
        });
    }
}
