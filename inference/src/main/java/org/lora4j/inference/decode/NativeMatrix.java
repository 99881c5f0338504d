package org.lora4j.inference.decode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A row view over the native memory of a dense c-order ND4J array of FLOAT or BFLOAT16 values, without copying:
 * an array of shape {@code [d0, ..., dk]} is {@code rows = d0·...·d(k-1)} rows of {@code cols = dk} values. The
 * memory is reached through direct {@link ByteBuffer}s in native byte order; a {@code ByteBuffer} indexes with an
 * {@code int}, so arrays past {@value #MAX_SEGMENT_BYTES} bytes are split into segments of whole rows.
 * Holds the array itself: ND4J frees native memory once its wrapper is unreachable.
 */
final class NativeMatrix {
    /** Storage of one value. BF16 is the upper half of an IEEE binary32 (Kalamkar et al. 2019). */
    enum Type {
        F32(4), BF16(2);

        final int bytes;

        Type(int bytes) {
            this.bytes = bytes;
        }
    }

    static final long MAX_SEGMENT_BYTES = 1L << 30;

    final INDArray array;
    final Type type;
    final int rows;
    final int cols;
    final int rowBytes;
    private final ByteBuffer[] segments;
    private final int rowsPerSegment;

    private NativeMatrix(INDArray array, Type type, int rows, int cols, long maxSegmentBytes) {
        this.array = array;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = cols * type.bytes;
        this.rowsPerSegment = (int) Math.max(1, Math.min(rows, maxSegmentBytes / rowBytes));
        int n = Math.max(1, (rows + rowsPerSegment - 1) / rowsPerSegment);
        long first = array.offset() * type.bytes;
        // data().pointer() is the start of the whole buffer; a view adds its offset (dense: its values are contiguous)
        BytePointer all = new BytePointer(array.data().pointer()).capacity(first + array.length() * type.bytes);
        segments = new ByteBuffer[n];
        for (int s = 0; s < n; s++) {
            long from = first + (long) s * rowsPerSegment * rowBytes;
            long len = (long) Math.min(rowsPerSegment, rows - s * rowsPerSegment) * rowBytes;
            BytePointer p = all.getPointer(from);
            segments[s] = p.capacity(len).asByteBuffer().order(ByteOrder.nativeOrder());
        }
    }

    /** The view of {@code a}; see {@link #unsupported(INDArray)} for what it accepts. */
    static NativeMatrix of(INDArray a) {
        return of(a, MAX_SEGMENT_BYTES);
    }

    static NativeMatrix of(INDArray a, long maxSegmentBytes) {
        String why = unsupported(a);
        if (why != null) {
            throw new UnsupportedOperationException(why);
        }
        long[] shape = a.shape();
        long cols = shape[shape.length - 1];
        long rows = a.length() / cols;
        return new NativeMatrix(a, a.dataType() == DataType.FLOAT ? Type.F32 : Type.BF16, (int) rows, (int) cols,
                maxSegmentBytes);
    }

    /** Why {@code a} cannot be viewed (null when it can): dtype, layout or size. */
    static String unsupported(INDArray a) {
        if (a.dataType() != DataType.FLOAT && a.dataType() != DataType.BFLOAT16) {
            return "an array is " + a.dataType() + "; the decode kernel reads FLOAT or BFLOAT16";
        }
        if (a.rank() < 1 || a.length() == 0) {
            return "an array has shape " + Arrays.toString(a.shape()) + "; expected a non-empty matrix";
        }
        long[] shape = a.shape();
        long[] stride = a.stride();
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] > 1 && stride[d] != expected) {
                return "an array of shape " + Arrays.toString(shape) + " has strides " + Arrays.toString(stride)
                        + "; the decode kernel reads dense c-order arrays";
            }
            expected *= shape[d];
        }
        long cols = shape[shape.length - 1];
        if (a.length() / cols > Integer.MAX_VALUE || cols * 4 > Integer.MAX_VALUE) {
            return "an array of shape " + Arrays.toString(shape) + " is too large for int row indices";
        }
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            return "the BF16 kernel assumes a little-endian machine";
        }
        return null;
    }

    /** The buffer holding {@code row}. */
    ByteBuffer segment(int row) {
        return segments[row / rowsPerSegment];
    }

    /** Byte offset of {@code row} in {@link #segment}. */
    int offset(int row) {
        return (row % rowsPerSegment) * rowBytes;
    }

    /** First row after {@code row} that lies in another segment (or {@link #rows}). */
    int segmentEnd(int row) {
        return Math.min(rows, (row / rowsPerSegment + 1) * rowsPerSegment);
    }

    float get(int row, int col) {
        ByteBuffer b = segment(row);
        int at = offset(row) + col * type.bytes;
        return type == Type.F32 ? b.getFloat(at) : bf16ToFloat(b.getShort(at));
    }

    /** {@code dst[dstOff..dstOff+cols) = row}. */
    void readRow(int row, float[] dst, int dstOff) {
        ByteBuffer b = segment(row);
        int at = offset(row);
        if (type == Type.F32) {
            for (int i = 0; i < cols; i++) {
                dst[dstOff + i] = b.getFloat(at + 4 * i);
            }
        } else {
            for (int i = 0; i < cols; i++) {
                dst[dstOff + i] = bf16ToFloat(b.getShort(at + 2 * i));
            }
        }
    }

    /** {@code row = src[srcOff..srcOff+cols)}, rounded to nearest-even for BF16. */
    void writeRow(int row, float[] src, int srcOff) {
        ByteBuffer b = segment(row);
        int at = offset(row);
        if (type == Type.F32) {
            for (int i = 0; i < cols; i++) {
                b.putFloat(at + 4 * i, src[srcOff + i]);
            }
        } else {
            for (int i = 0; i < cols; i++) {
                b.putShort(at + 2 * i, floatToBf16(src[srcOff + i]));
            }
        }
    }

    /** Every value as FP32, row after row (for the small vectors: norms, biases). */
    float[] toFloats() {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            readRow(r, out, r * cols);
        }
        return out;
    }

    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** Round to nearest, ties to even; NaN stays NaN. */
    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
