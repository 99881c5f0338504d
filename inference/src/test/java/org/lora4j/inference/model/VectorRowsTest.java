package org.lora4j.inference.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The SIMD row kernels ({@link VectorRows}, FLOAT) against the scalar kernels computed in DOUBLE on the same values:
 * equal to float rounding. Widths are not multiples of the vector length, so the scalar tails run too.
 */
class VectorRowsTest {
    private final Random rnd = new Random(5);

    private INDArray rand(int rows, int cols, double scale) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = rnd.nextGaussian() * scale;
        }
        return Nd4j.create(v, new long[] {rows, cols}, DataType.DOUBLE);
    }

    private static void assertClose(INDArray want, INDArray got, double tol, String what) {
        double[] w = want.reshape(want.length()).toDoubleVector();
        double[] g = got.reshape(got.length()).toDoubleVector();
        double worst = 0;
        for (int i = 0; i < w.length; i++) {
            worst = Math.max(worst, Math.abs(w[i] - g[i]) / Math.max(1e-3, Math.abs(w[i])));
        }
        assertTrue(worst < tol, what + ": worst relative difference " + worst);
    }

    @Test
    void vectorModuleIsOnInTests() {
        assertTrue(Rows.VECTOR, "the tests run with --add-modules jdk.incubator.vector (pom.xml lora4j.test.jvm)");
    }

    /** The polynomial exp against Math.exp across the float range; masked scores (−1e30) give exactly 0. */
    @Test
    void expIsAccurateAndMaskedScoresGiveZero() {
        var species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        float[] x = new float[species.length()];
        double worst = 0;
        for (int k = 0; k < 20000; k++) {
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rnd.nextDouble() * 170 - 86);
            }
            float[] y = VectorRows.exp(jdk.incubator.vector.FloatVector.fromArray(species, x, 0)).toArray();
            for (int i = 0; i < x.length; i++) {
                double want = Math.exp(x[i]);
                worst = Math.max(worst, Math.abs(y[i] - want) / want);
            }
        }
        assertTrue(worst < 3e-7, "worst relative error " + worst);
        x[0] = -1e30f;
        x[1] = -100f;
        float[] y = VectorRows.exp(jdk.incubator.vector.FloatVector.fromArray(species, x, 0)).toArray();
        assertEquals(0f, y[0], 0f);
        assertEquals(0f, y[1], 0f);
    }

    @Test
    void maskedSoftmaxBlockAndItsBackward() {
        int m = 7;
        int n = 45;
        int ld = 53;
        INDArray scores = rand(m, ld, 2);
        INDArray mask = Nd4j.zeros(DataType.DOUBLE, m, ld);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < ld; j++) {
                if (j > 30 + i || (i == 2 && j < 10)) {
                    mask.putScalar(i, j, AttentionMask.MASKED);
                }
            }
        }
        INDArray want = scores.dup();
        Attention.softmaxRows(Buf.of(want), 3, ld, Buf.of(mask), 3, m, n);
        INDArray got = scores.castTo(DataType.FLOAT);
        VectorRows.softmaxBlock(VectorRows.bytes(got), 3, ld, VectorRows.bytes(mask.castTo(DataType.FLOAT)), 3, m, n);
        assertClose(want, got, 2e-6, "softmax");
        assertEquals(0.0, got.getDouble(0, 3 + 40), 0.0, "a masked key is exactly 0");

        INDArray dp = rand(m, ld, 1);
        INDArray wantDs = dp.dup();
        Attention.softmaxBackwardRows(Buf.of(want), 3, Buf.of(wantDs), ld, m, n, 0.125);
        INDArray gotDs = dp.castTo(DataType.FLOAT);
        VectorRows.softmaxBackwardBlock(VectorRows.bytes(got), 3, VectorRows.bytes(gotDs), ld, m, n, 0.125f);
        assertClose(wantDs.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, n)),
                gotDs.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, n)),
                1e-4, "softmax backward");
    }

    @Test
    void crossEntropyLossAndGradient() {
        int n = 6;
        int v = 1003;
        INDArray z = rand(n, v, 3);
        int[] targets = {5, -100, 1002, 0, 77, 500};
        CrossEntropy.Sum want = CrossEntropy.sum(z, targets);               // DOUBLE: scalar kernel
        INDArray zf = z.castTo(DataType.FLOAT);
        CrossEntropy.Sum got = CrossEntropy.sum(zf, targets);               // FLOAT: vector kernel
        assertEquals(want.loss(), got.loss(), 1e-5 * Math.abs(want.loss()));
        assertEquals(want.tokens(), got.tokens());
        INDArray dWant = CrossEntropy.backward(z, targets, 5);
        INDArray dGot = CrossEntropy.backward(zf, targets, 5);
        assertClose(dWant, dGot, 1e-5, "dlogits");
    }

    @Test
    void swigluGateAndItsBackward() {
        int rows = 3;
        int width = 37;
        INDArray g = rand(rows, width, 3);
        INDArray u = rand(rows, width, 1);
        INDArray da = rand(rows, width, 1);
        INDArray wantA = Nd4j.zeros(DataType.DOUBLE, rows, width);
        INDArray wantDg = Nd4j.zeros(DataType.DOUBLE, rows, width);
        INDArray wantDu = Nd4j.zeros(DataType.DOUBLE, rows, width);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < width; j++) {
                double x = g.getDouble(i, j);
                double s = 1 / (1 + Math.exp(-x));
                wantA.putScalar(i, j, x * s * u.getDouble(i, j));
                wantDg.putScalar(i, j, da.getDouble(i, j) * u.getDouble(i, j) * s * (1 + x * (1 - s)));
                wantDu.putScalar(i, j, da.getDouble(i, j) * x * s);
            }
        }
        INDArray gf = g.castTo(DataType.FLOAT);
        INDArray uf = u.castTo(DataType.FLOAT);
        INDArray af = Nd4j.zeros(DataType.FLOAT, rows, width);
        ByteBuffer gb = VectorRows.bytes(gf);
        ByteBuffer ub = VectorRows.bytes(uf);
        for (int r = 0; r < rows; r++) {
            VectorRows.siluMul(gb, ub, VectorRows.bytes(af), r, width);
        }
        assertClose(wantA, af, 1e-5, "silu(g)·u");
        INDArray daf = da.castTo(DataType.FLOAT);
        for (int r = 0; r < rows; r++) {
            VectorRows.siluMulBackward(gb, ub, VectorRows.bytes(daf), r, width);
        }
        assertClose(wantDg, uf, 1e-5, "dg (written over u)");
        assertClose(wantDu, gf, 1e-5, "du (written over g)");
    }
}
