package org.lora4j.inference.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The decode attention over a KV cache (FP32 and BF16, vector and tail head sizes) against a naive loop. */
class DecodeAttentionTest {

    @ParameterizedTest(name = "{0}, head_dim {1}, heads in parallel from {2} MACs")
    @CsvSource({"FLOAT, 10, 0", "FLOAT, 64, 0", "BFLOAT16, 10, 0", "BFLOAT16, 64, 0", "FLOAT, 64, 1000000000",
        "BFLOAT16, 64, 1000000000"})
    void attendMatchesNaiveSoftmax(DataType dtype, int hd, long parallelWork) {
        int batch = 2;
        int nH = 4;
        int nKv = 2;
        int cap = 12;
        int slot = 9;
        Random r = new Random(hd);
        double[] kv = new double[batch * nKv * cap * hd];
        INDArray keys = random(kv, r, dtype, batch, nKv, cap, hd);
        double[] vv = new double[kv.length];
        INDArray values = random(vv, r, dtype, batch, nKv, cap, hd);
        boolean[][] visible = new boolean[batch][slot + 1];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j <= slot; j++) {
                visible[b][j] = j == slot || r.nextInt(3) > 0;   // holes, as padding and windows make
            }
        }
        MatVec.Input q = new MatVec.Input(batch, nH * hd);
        for (float[] row : q.x) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        q.split();
        float[][] out = new float[batch][nH * hd];
        DecodeAttention attention = new DecodeAttention(nH, nKv, hd, parallelWork);
        attention.attend(q, NativeMatrix.of(keys), NativeMatrix.of(values), cap, slot, visible, out, new DecodePool(2));

        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nH; h++) {
                int first = (b * nKv + h / (nH / nKv)) * cap;
                double[] s = new double[slot + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= slot; j++) {
                    for (int i = 0; i < hd; i++) {
                        s[j] += q.x[b][h * hd + i] * kv[(first + j) * hd + i];
                    }
                    s[j] /= Math.sqrt(hd);
                    if (visible[b][j]) {
                        max = Math.max(max, s[j]);
                    }
                }
                double sum = 0;
                for (int j = 0; j <= slot; j++) {
                    s[j] = visible[b][j] ? Math.exp(s[j] - max) : 0;
                    sum += s[j];
                }
                for (int i = 0; i < hd; i++) {
                    double o = 0;
                    for (int j = 0; j <= slot; j++) {
                        o += s[j] / sum * vv[(first + j) * hd + i];
                    }
                    assertEquals(o, out[b][h * hd + i], 1e-5, dtype + " row " + b + " head " + h + " dim " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"FLOAT", "BFLOAT16"})
    void storeWritesTheSlotOfEveryHead(DataType dtype) {
        int batch = 2;
        int nKv = 3;
        int hd = 6;
        int cap = 5;
        INDArray keys = Nd4j.zeros(dtype, batch, nKv, cap, hd);
        INDArray values = Nd4j.zeros(dtype, batch, nKv, cap, hd);
        float[][] k = new float[batch][nKv * hd];
        float[][] v = new float[batch][nKv * hd];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < nKv * hd; i++) {
                k[b][i] = b * 100 + i + 0.5f;
                v[b][i] = -(b * 100 + i);
            }
        }
        new DecodeAttention(3, nKv, hd).store(NativeMatrix.of(keys), NativeMatrix.of(values), cap, 3, k, v);
        for (int b = 0; b < batch; b++) {
            for (int g = 0; g < nKv; g++) {
                for (int i = 0; i < hd; i++) {
                    assertEquals(k[b][g * hd + i], keys.getFloat(b, g, 3, i), 0.5f, "key " + b + "," + g + "," + i);
                    assertEquals(v[b][g * hd + i], values.getFloat(b, g, 3, i), 0.5f, "value " + b + "," + g + "," + i);
                    assertEquals(0f, keys.getFloat(b, g, 2, i), 0f, "other slots stay untouched");
                }
            }
        }
    }

    /** Random values, exactly representable in BF16 (so {@code out} holds the stored values). */
    private static INDArray random(double[] out, Random r, DataType dtype, long... shape) {
        for (int i = 0; i < out.length; i++) {
            out[i] = NativeMatrix.bf16ToFloat(NativeMatrix.floatToBf16((float) r.nextGaussian()));
        }
        return Nd4j.create(out, shape, DataType.DOUBLE).castTo(dtype);
    }
}
