package org.lora4j.adapters.safetensors;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Element types of the safetensors format (https://github.com/huggingface/safetensors, "format" section),
 * spelled as they appear in a header's {@code "dtype"} field.
 */
public enum DType {
    F64(8, true, 17),
    F32(4, true, 15),
    F16(2, true, 11),
    BF16(2, true, 12),
    I64(8, false, 18),
    I32(4, false, 13),
    I16(2, false, 9),
    I8(1, false, 5),
    U8(1, false, 4),
    BOOL(1, false, 0);

    private final int byteSize;
    private final boolean isFloat;
    /** Position in the Rust crate's {@code Dtype} enum; the reference writer lays tensors out by it, descending. */
    private final int rustOrder;

    DType(int byteSize, boolean isFloat, int rustOrder) {
        this.byteSize = byteSize;
        this.isFloat = isFloat;
        this.rustOrder = rustOrder;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for F64, F32, F16 and BF16. */
    public boolean isFloat() {
        return isFloat;
    }

    int rustOrder() {
        return rustOrder;
    }

    /**
     * The dtype named {@code name} (exact, upper case, e.g. "BF16").
     *
     * @param where what is being read, for the error message (e.g. "tensor 'x' in /path/model.safetensors")
     * @throws CheckpointException naming the unknown dtype and the supported ones
     */
    public static DType parse(String name, String where) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        String known = Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
        throw new CheckpointException(where + ": unknown dtype \"" + name + "\"; expected one of " + known
                + ". The file may use a newer safetensors dtype (e.g. F8_E4M3) that lora4j does not read;"
                + " convert the checkpoint to BF16, F16 or F32 first");
    }
}
