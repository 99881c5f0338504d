package org.lora4j.inference.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The decode kernels alone against naive double-precision loops over the same values. */
class MatVecTest {

    /** W [rows, cols] with values exactly representable in BF16, so FP32 and BF16 storage hold the same matrix. */
    private static INDArray matrix(int rows, int cols, DataType dtype, long seed) {
        Random r = new Random(seed);
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = NativeMatrix.bf16ToFloat(NativeMatrix.floatToBf16((float) r.nextGaussian()));
        }
        return Nd4j.create(v, new long[] {rows, cols}, DataType.DOUBLE).castTo(dtype);
    }

    private static MatVec.Input input(int nb, int cols, long seed) {
        Random r = new Random(seed);
        MatVec.Input in = new MatVec.Input(nb, cols);
        for (float[] x : in.x) {
            for (int i = 0; i < cols; i++) {
                x[i] = (float) r.nextGaussian();
            }
        }
        return in.split();
    }

    /** y_b[o] = Σ_i W[o,i]·x_b[i] in double. */
    private static double[][] naive(INDArray w, MatVec.Input in) {
        double[][] wd = w.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] y = new double[in.nb][wd.length];
        for (int b = 0; b < in.nb; b++) {
            for (int o = 0; o < wd.length; o++) {
                double s = 0;
                for (int i = 0; i < in.cols; i++) {
                    s += wd[o][i] * in.x[b][i];
                }
                y[b][o] = s;
            }
        }
        return y;
    }

    private static void assertClose(double[][] want, float[][] got, int from, int to, String what) {
        for (int b = 0; b < want.length; b++) {
            for (int o = from; o < to; o++) {
                double tol = 1e-5 * (1 + Math.abs(want[b][o])) * Math.sqrt(got.length + 1.0) * 10;
                assertEquals(want[b][o], got[b][o], tol, what + " row " + b + ", output " + o);
            }
        }
    }

    @ParameterizedTest(name = "{0}: {1} rows x {2} cols, {3} inputs")
    @CsvSource({
        "FLOAT, 13, 37, 1", "FLOAT, 13, 37, 2", "FLOAT, 13, 37, 3", "FLOAT, 13, 37, 4", "FLOAT, 21, 64, 6",
        "FLOAT, 17, 100, 9", "FLOAT, 40, 160, 1", "FLOAT, 40, 160, 5",
        "BFLOAT16, 13, 37, 1", "BFLOAT16, 13, 37, 2", "BFLOAT16, 13, 37, 3", "BFLOAT16, 13, 37, 4",
        "BFLOAT16, 21, 64, 6", "BFLOAT16, 17, 100, 9", "BFLOAT16, 40, 160, 1", "BFLOAT16, 40, 160, 5"})
    void rowsMatchNaiveLoop(DataType dtype, int rows, int cols, int nb) {
        INDArray w = matrix(rows, cols, dtype, rows * 31L + cols);
        MatVec.Input in = input(nb, cols, nb);
        double[][] want = naive(w, in);
        NativeMatrix m = NativeMatrix.of(w);
        float[][] y = new float[nb][rows];
        MatVec.rows(m, 0, rows, in, 0, nb, y);
        assertClose(want, y, 0, rows, dtype + " whole");
        // a sub-range of rows and of batch rows leaves the rest untouched
        float[][] part = new float[nb][rows];
        MatVec.rows(m, 3, rows - 2, in, nb - 1, nb, part);
        for (int o = 0; o < rows; o++) {
            float expect = o >= 3 && o < rows - 2 ? y[nb - 1][o] : 0f;
            // one input alone may sum in another order than in a group of inputs
            assertEquals(expect, part[nb - 1][o], 1e-5 * (1 + Math.abs(expect)), "partial output " + o);
        }
    }

    @Test
    void segmentsAndViewsReadTheRightRows() {
        INDArray big = matrix(30, 40, DataType.FLOAT, 1);
        INDArray view = big.get(NDArrayIndex.interval(5, 25), NDArrayIndex.all());  // offset 200, dense rows
        MatVec.Input in = input(3, 40, 2);
        double[][] want = naive(view, in);
        for (long segBytes : new long[] {NativeMatrix.MAX_SEGMENT_BYTES, 3 * 40 * 4, 40 * 4 + 1}) {
            NativeMatrix m = NativeMatrix.of(view, segBytes);
            float[][] y = new float[3][20];
            MatVec.rows(m, 0, 20, in, 0, 3, y);
            assertClose(want, y, 0, 20, "segment bytes " + segBytes);
            assertEquals(view.getFloat(7, 9), m.get(7, 9), 0f);
        }
        assertTrue(NativeMatrix.unsupported(big.transpose()).contains("dense c-order"));
        assertTrue(NativeMatrix.unsupported(big.castTo(DataType.HALF)).contains("HALF"));
    }

    @Test
    void lowRankAddsBTimesU() {
        for (DataType dtype : new DataType[] {DataType.FLOAT, DataType.BFLOAT16}) {
            int out = 45;                                            // a vector part and a tail
            INDArray b = matrix(out, 4, dtype, 3);
            float[] u = {0.5f, -1f, 2f, 0.25f};
            float[] y = new float[out];
            y[5] = 1f;
            MatVec.addLowRank(MatVec.transposed(NativeMatrix.of(b)), 4, out, 2, 40, u, y);
            double[][] bd = b.castTo(DataType.DOUBLE).toDoubleMatrix();
            for (int o = 0; o < out; o++) {
                double s = o == 5 ? 1 : 0;
                if (o >= 2 && o < 40) {
                    for (int j = 0; j < 4; j++) {
                        s += bd[o][j] * u[j];
                    }
                }
                assertEquals(s, y[o], 1e-5, dtype + " output " + o);
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3F80, NativeMatrix.floatToBf16(1f));
        assertEquals((short) 0x3F80, NativeMatrix.floatToBf16(Float.intBitsToFloat(0x3F808000))); // tie → even
        assertEquals((short) 0x3F82, NativeMatrix.floatToBf16(Float.intBitsToFloat(0x3F818000))); // tie → even
        assertEquals((short) 0x3F81, NativeMatrix.floatToBf16(Float.intBitsToFloat(0x3F808001)));
        assertTrue(Float.isNaN(NativeMatrix.bf16ToFloat(NativeMatrix.floatToBf16(Float.NaN))));
        INDArray nd = Nd4j.create(new float[] {1.00390625f, -3.1415927f, 65504f}, new long[] {1, 3}).castTo(DataType.BFLOAT16);
        NativeMatrix m = NativeMatrix.of(nd);
        for (int i = 0; i < 3; i++) {
            assertEquals(nd.getFloat(0, i), m.get(0, i), 0f, "ND4J's and our BF16 rounding agree at " + i);
        }
    }

    @Test
    void poolRunsEveryRowOnceAndRethrows() {
        DecodePool pool = new DecodePool(3);
        for (int round = 0; round < 300; round++) {
            int n = 1 + round % 97;
            int grain = 1 + round % 7;
            AtomicIntegerArray hits = new AtomicIntegerArray(n);
            pool.run(n, grain, (from, to) -> {
                assertTrue(to - from <= grain && from < to, "piece [" + from + ", " + to + ") of grain " + grain);
                for (int i = from; i < to; i++) {
                    hits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < n; i++) {
                assertEquals(1, hits.get(i), "round " + round + ", row " + i);
            }
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run(8, 1, (from, to) -> {
            if (from == 5) {
                throw new IllegalStateException("row 5 failed");
            }
        }));
        assertEquals("row 5 failed", e.getMessage());
        AtomicIntegerArray after = new AtomicIntegerArray(4);
        pool.run(4, 1, (from, to) -> after.incrementAndGet(from));
        assertEquals(4, after.get(0) + after.get(1) + after.get(2) + after.get(3));
    }
}
