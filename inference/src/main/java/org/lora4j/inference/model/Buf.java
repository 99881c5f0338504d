package org.lora4j.inference.model;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Element access to a dense ND4J array's native memory for the decoder's row kernels (norms, SiLU, RoPE, softmax,
 * cross-entropy): one pass in Java instead of a chain of ND4J ops that each allocate and cost 10–100 µs. Values
 * are read and written as double; FLOAT arrays (training, inference) and DOUBLE arrays (finite-difference tests)
 * share one kernel. Index {@code i} counts elements from the array's first element.
 */
public abstract sealed class Buf permits Buf.F32, Buf.F64, Buf.B16 {
    public abstract double get(long i);

    public abstract void set(long i, double v);

    public void add(long i, double v) {
        set(i, get(i) + v);
    }

    public static Buf of(INDArray a) {
        if (a.ordering() != 'c' || a.elementWiseStride() != 1) {
            throw new IllegalArgumentException("row kernels need a dense c-order array, got " + a.shapeInfoToString());
        }
        if (a.dataType() == DataType.FLOAT) {
            return new F32(a.data().asNioFloat(), (int) a.offset());
        }
        if (a.dataType() == DataType.DOUBLE) {
            return new F64(a.data().asNioDouble(), (int) a.offset());
        }
        if (a.dataType() == DataType.BFLOAT16) {
            return new B16(a.data().asNio().order(java.nio.ByteOrder.nativeOrder()).asShortBuffer(), (int) a.offset());
        }
        throw new IllegalArgumentException("the decoder computes in FLOAT or DOUBLE, not " + a.dataType()
                + " (load the model with DataType.FLOAT)");
    }

    static final class F32 extends Buf {
        private final FloatBuffer b;
        private final int off;

        F32(FloatBuffer b, int off) {
            this.b = b;
            this.off = off;
        }

        @Override
        public double get(long i) {
            return b.get(off + (int) i);
        }

        @Override
        public void set(long i, double v) {
            b.put(off + (int) i, (float) v);
        }
    }

    static final class F64 extends Buf {
        private final DoubleBuffer b;
        private final int off;

        F64(DoubleBuffer b, int off) {
            this.b = b;
            this.off = off;
        }

        @Override
        public double get(long i) {
            return b.get(off + (int) i);
        }

        @Override
        public void set(long i, double v) {
            b.put(off + (int) i, v);
        }
    }

    /** BF16 storage (the upper half of an IEEE binary32), read widened; written rounded to nearest even. */
    static final class B16 extends Buf {
        private final java.nio.ShortBuffer b;
        private final int off;

        B16(java.nio.ShortBuffer b, int off) {
            this.b = b;
            this.off = off;
        }

        @Override
        public double get(long i) {
            return Float.intBitsToFloat((b.get(off + (int) i) & 0xFFFF) << 16);
        }

        @Override
        public void set(long i, double v) {
            int bits = Float.floatToRawIntBits((float) v);
            bits += 0x7FFF + ((bits >>> 16) & 1);
            b.put(off + (int) i, (short) (bits >>> 16));
        }
    }
}
