package org.lora4j.inference.model;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Row-major GEMM on sub-matrices of ND4J arrays, {@code C = α·op(A)·op(B) + β·C}, straight into ND4J's OpenBLAS
 * ({@code cblas_sgemm}/{@code cblas_dgemm}, what {@code Nd4j.gemm} calls underneath) with element offsets and
 * leading dimensions: one head of a {@code [B·T, heads·hd]} projection is the {@code [T, hd]} matrix at offset
 * {@code b·T·ld + h·hd} with {@code ld = heads·hd}, so attention runs per head without permute copies.
 * Operands must be dense c-order arrays of one type, FLOAT or DOUBLE (the decoder's types).
 */
public final class Blas {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;

    /** Host memory: the CPU backend (the CUDA backend's buffers live on the device; that build is untested). */
    private static final boolean HOST = !Nd4j.getBackend().getClass().getName().toLowerCase().contains("cuda");

    private Blas() {
    }

    /** {@code c[m,n] (=|+=) α · op(a)[m,k] · op(b)[k,n]} over whole dense 2-D arrays. */
    public static void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta) {
        int m = (int) c.size(0);
        int n = (int) c.size(1);
        int k = (int) (transA ? a.size(0) : a.size(1));
        gemm(transA, transB, m, n, k, alpha, a, 0, (int) a.size(1), b, 0, (int) b.size(1), beta, c, 0, (int) c.size(1));
    }

    /** The general form: offsets and leading dimensions in elements, relative to each array's first element. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                            INDArray a, long aOff, int lda, INDArray b, long bOff, int ldb,
                            double beta, INDArray c, long cOff, int ldc) {
        DataType dt = c.dataType();
        if (a.dataType() != dt || b.dataType() != dt || !dense(a) || !dense(b) || !dense(c)) {
            throw new IllegalArgumentException("Blas.gemm needs dense c-order operands of one type; got " + a.dataType()
                    + "/" + b.dataType() + "/" + dt + " (a view or an 'f'-order array? use Tensors.contiguous)");
        }
        if (!HOST) {
            throw new UnsupportedOperationException("Blas.gemm runs on the CPU backend only; the CUDA build is untested");
        }
        int ta = transA ? TRANS : NO_TRANS;
        int tb = transB ? TRANS : NO_TRANS;
        if (dt == DataType.FLOAT) {
            openblas_nolapack.cblas_sgemm(ROW_MAJOR, ta, tb, m, n, k, (float) alpha, floats(a, aOff), lda,
                    floats(b, bOff), ldb, (float) beta, floats(c, cOff), ldc);
        } else if (dt == DataType.DOUBLE) {
            openblas_nolapack.cblas_dgemm(ROW_MAJOR, ta, tb, m, n, k, alpha, doubles(a, aOff), lda,
                    doubles(b, bOff), ldb, beta, doubles(c, cOff), ldc);
        } else {
            throw new IllegalArgumentException("the decoder computes in FLOAT or DOUBLE, not " + dt
                    + " (load the model with DataType.FLOAT)");
        }
    }

    private static boolean dense(INDArray x) {
        return x.ordering() == 'c' && x.elementWiseStride() == 1;
    }

    private static FloatPointer floats(INDArray x, long off) {
        FloatPointer p = new FloatPointer(x.data().addressPointer());
        return p.position(p.position() + x.offset() + off);
    }

    private static DoublePointer doubles(INDArray x, long off) {
        DoublePointer p = new DoublePointer(x.data().addressPointer());
        return p.position(p.position() + x.offset() + off);
    }
}
