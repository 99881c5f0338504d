package org.lora4j.adapters.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.LoraInit;
import org.lora4j.adapters.lora.LoraWeights;
import org.lora4j.adapters.lora.TargetModules;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** In-place merge and unmerge against a plain triple loop W + s·B·A. */
class LoraMergeTest {

    private static final String Q = "model.layers.0.self_attn.q_proj";

    private static LoraWeights lora(int in, int out, int r, DataType dtype) {
        LoraConfig c = new LoraConfig(r, 3 * r, 0, TargetModules.Names.of("q_proj"), null, false, LoraInit.RANDOM,
                null); // s = 3
        return LoraWeights.init(Q, in, out, c, 17, dtype);
    }

    /** W + sign·s·B·A with double accumulation, from the arrays' values. */
    private static double[][] expected(INDArray w, LoraWeights l, double sign) {
        int out = l.outFeatures();
        int in = l.inFeatures();
        double[][] e = new double[out][in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int k = 0; k < l.r(); k++) {
                    s += l.b().getDouble(o, k) * l.a().getDouble(k, i);
                }
                e[o][i] = w.getDouble(o, i) + sign * l.scale() * s;
            }
        }
        return e;
    }

    private static INDArray base(int out, int in, DataType dtype) {
        return Nd4j.rand(DataType.FLOAT, out, in).subi(0.5).castTo(dtype);
    }

    private static void assertClose(double[][] e, INDArray got, double tol) {
        for (int o = 0; o < e.length; o++) {
            for (int i = 0; i < e[o].length; i++) {
                assertEquals(e[o][i], got.getDouble(o, i), tol, "[" + o + ", " + i + "]");
            }
        }
    }

    @Test
    void mergeIntoAddsScaledProductAndUnmergeRestores() {
        LoraWeights l = lora(37, 23, 4, DataType.FLOAT);
        assertEquals(3.0, l.scale());
        INDArray w = base(23, 37, DataType.FLOAT);
        INDArray original = w.dup();
        double[][] e = expected(w, l, 1);
        LoraMerge.mergeInto(w, l);
        assertClose(e, w, 1e-5);
        assertTrue(w.sub(original).norm2Number().doubleValue() > 0.1, "the merge must change W");
        LoraMerge.unmergeFrom(w, l);
        assertClose(expected(original, l, 0), w, 1e-6);
    }

    @Test
    void doubleWeightsUseTheSameFormula() {
        LoraWeights l = lora(9, 5, 2, DataType.DOUBLE);
        INDArray w = base(5, 9, DataType.DOUBLE);
        double[][] e = expected(w, l, -1);
        LoraMerge.unmergeFrom(w, l);
        assertClose(e, w, 1e-12);
    }

    @Test
    void bf16WeightsAreMergedInFp32AndRoundedOnce() {
        LoraWeights l = lora(16, 8, 2, DataType.FLOAT);
        INDArray w = base(8, 16, DataType.BFLOAT16);
        double[][] e = expected(w, l, 1);
        LoraMerge.mergeInto(w, l);
        assertEquals(DataType.BFLOAT16, w.dataType());
        assertClose(e, w, 1.0 / 128); // within one bf16 rounding of values below 2
    }

    @Test
    void viewsAreMergedInPlace() {
        LoraWeights l = lora(6, 4, 2, DataType.FLOAT);
        INDArray big = base(8, 6, DataType.FLOAT);
        INDArray view = big.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 6),
                org.nd4j.linalg.indexing.NDArrayIndex.all());
        double[][] e = expected(view, l, 1);
        float[] before = big.getRow(0).toFloatVector();
        LoraMerge.mergeInto(view, l);
        assertClose(e, big.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 6),
                org.nd4j.linalg.indexing.NDArrayIndex.all()), 1e-5);
        assertArrayEquals(before, big.getRow(0).toFloatVector(), 0f);
    }

    @Test
    void wrongShapeIsRefused() {
        LoraWeights l = lora(6, 4, 2, DataType.FLOAT);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> LoraMerge.mergeInto(Nd4j.zeros(DataType.FLOAT, 6, 4), l));
        assertTrue(e.getMessage().contains("[out=4, in=6]"), e.getMessage());
    }
}
