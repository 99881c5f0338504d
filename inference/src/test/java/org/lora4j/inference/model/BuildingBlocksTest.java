package org.lora4j.inference.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.config.RopeScaling;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Each ND4J building block against a plain, obviously-correct Java loop, in DOUBLE on small inputs. */
class BuildingBlocksTest {
    private final Random rnd = new Random(1234);

    private double[][] rand(int r, int c) {
        double[][] a = new double[r][c];
        for (double[] row : a) {
            for (int j = 0; j < c; j++) {
                row[j] = rnd.nextGaussian();
            }
        }
        return a;
    }

    private static INDArray nd(double[][] a) {
        return Nd4j.create(a).castTo(DataType.DOUBLE);
    }

    private static INDArray nd(double[] a) {
        return Nd4j.createFromArray(a);
    }

    private static double[][] matmulT(double[][] x, double[][] w) { // x·wᵀ
        double[][] y = new double[x.length][w.length];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < w.length; o++) {
                double s = 0;
                for (int k = 0; k < w[o].length; k++) {
                    s += x[i][k] * w[o][k];
                }
                y[i][o] = s;
            }
        }
        return y;
    }

    private static void assertClose(double[][] want, INDArray got, double tol) {
        double[][] g = got.toDoubleMatrix();
        double max = 0;
        for (int i = 0; i < want.length; i++) {
            for (int j = 0; j < want[i].length; j++) {
                max = Math.max(max, Math.abs(want[i][j] - g[i][j]));
            }
        }
        assertTrue(max < tol, "max abs error " + max);
    }

    @Test
    void rmsNorm() {
        double[][] x = rand(3, 7);
        double[] w = rand(1, 7)[0];
        double eps = 1e-5;
        double[][] want = new double[3][7];
        for (int i = 0; i < 3; i++) {
            double ms = 0;
            for (double v : x[i]) {
                ms += v * v / 7;
            }
            for (int j = 0; j < 7; j++) {
                want[i][j] = x[i][j] / Math.sqrt(ms + eps) * w[j];
            }
        }
        assertClose(want, RmsNorm.forward(nd(x), nd(w), eps), 1e-12);
    }

    @Test
    void swiGlu() {
        int h = 5;
        int inter = 8;
        double[][] x = rand(4, h);
        double[][] g = rand(inter, h);
        double[][] u = rand(inter, h);
        double[][] dn = rand(h, inter);
        double[][] gx = matmulT(x, g);
        double[][] ux = matmulT(x, u);
        double[][] act = new double[4][inter];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < inter; j++) {
                act[i][j] = gx[i][j] / (1 + Math.exp(-gx[i][j])) * ux[i][j];
            }
        }
        LayerWeights w = new LayerWeights(0, null, null, null, null, null, null,
                new Linear("g", nd(g), null), new Linear("u", nd(u), null), new Linear("d", nd(dn), null));
        assertClose(matmulT(act, dn), SwiGluMlp.forward(w, nd(x)), 1e-12);
    }

    private static ModelConfig config(int hidden, int heads, int kvHeads, int headDim, int window) {
        return new ModelConfig(window > 0 ? Architecture.MISTRAL : Architecture.LLAMA, 16, hidden, 8, 1, heads,
                kvHeads, headDim, 1e-6, 10000.0, new RopeScaling.Linear(2.0), 64, false, false, false, window, 0,
                -1, new int[0], "float32");
    }

    /** Plain RoPE in the rotate_half convention at position p with inverse frequencies f. */
    private static double[] rope(double[] x, int p, float[] f) {
        int half = x.length / 2;
        double[] y = new double[x.length];
        for (int j = 0; j < half; j++) {
            double a = (float) (p * f[j]);
            y[j] = x[j] * Math.cos(a) - x[j + half] * Math.sin(a);
            y[j + half] = x[j + half] * Math.cos(a) + x[j] * Math.sin(a);
        }
        return y;
    }

    @Test
    void ropeRotateHalf() {
        ModelConfig c = config(12, 2, 2, 6, 0);
        RotaryEmbedding re = new RotaryEmbedding(c);
        int[] positions = {0, 3, 17, 250};
        double[][] x = rand(positions.length * 2, 6); // [N·heads, hd]
        INDArray got = RotaryEmbedding.apply(nd(x).reshape(positions.length, 2, 6),
                re.table(positions, DataType.DOUBLE)).reshape(positions.length * 2, 6);
        double[][] want = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            want[i] = rope(x[i], positions[i / 2], re.invFreq());
        }
        assertClose(want, got, 1e-6);
        // linear scaling halves the frequencies: inv_freq[1] = 1 / (10000^(2/6) · 2)
        assertEquals(1.0 / (Math.pow(10000, 2.0 / 6) * 2), re.invFreq()[1], 1e-9);
    }

    @Test
    void groupedQueryAttentionWithWindowAndPadding() {
        int batch = 2;
        int t = 6;
        int hidden = 8;
        int heads = 4;
        int kv = 2;
        int hd = 4;
        int window = 3;
        ModelConfig c = config(hidden, heads, kv, hd, window);
        double[][] x = rand(batch * t, hidden);
        double[][] wq = rand(heads * hd, hidden);
        double[][] wk = rand(kv * hd, hidden);
        double[][] wv = rand(kv * hd, hidden);
        double[][] wo = rand(hidden, heads * hd);
        double[] bq = rand(1, heads * hd)[0];
        LayerWeights w = new LayerWeights(0, null, new Linear("q", nd(wq), nd(bq)), new Linear("k", nd(wk), null),
                new Linear("v", nd(wv), null), new Linear("o", nd(wo), null), null, null, null, null);
        boolean[][] valid = new boolean[batch][t];
        int[][] pos = new int[batch][t];
        for (int b = 0; b < batch; b++) {
            int pad = b == 0 ? 0 : 2; // row 1 is left-padded by two slots
            for (int i = 0; i < t; i++) {
                valid[b][i] = i >= pad;
                pos[b][i] = Math.max(0, i - pad);
            }
        }
        AttentionMask mask = new AttentionMask(valid, null);
        RotaryEmbedding re = new RotaryEmbedding(c);
        int[] flatPos = new int[batch * t];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(pos[b], 0, flatPos, b * t, t);
        }
        INDArray got = Attention.forward(c, w, nd(x), batch, t, re.table(flatPos, DataType.DOUBLE), null,
                mask.build(batch, 0, t, t, window, DataType.DOUBLE));

        double[][] q = matmulT(x, wq);
        for (int i = 0; i < q.length; i++) {
            for (int j = 0; j < q[i].length; j++) {
                q[i][j] += bq[j];
            }
        }
        double[][] k = matmulT(x, wk);
        double[][] v = matmulT(x, wv);
        double[][] out = new double[batch * t][heads * hd];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int g = h / (heads / kv);
                for (int i = 0; i < t; i++) {
                    double[] qi = rope(slice(q[b * t + i], h * hd, hd), pos[b][i], re.invFreq());
                    double[] s = new double[t];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        boolean ok = j == i || (j < i && i - j < window && valid[b][j]);
                        if (!ok) {
                            s[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double[] kj = rope(slice(k[b * t + j], g * hd, hd), pos[b][j], re.invFreq());
                        double dot = 0;
                        for (int e = 0; e < hd; e++) {
                            dot += qi[e] * kj[e];
                        }
                        s[j] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j < t; j++) {
                        for (int e = 0; e < hd; e++) {
                            out[b * t + i][h * hd + e] += s[j] / sum * v[b * t + j][g * hd + e];
                        }
                    }
                }
            }
        }
        assertClose(matmulT(out, wo), got, 1e-5); // RoPE tables are FP32, as in HF
    }

    private static double[] slice(double[] a, int from, int n) {
        return java.util.Arrays.copyOfRange(a, from, from + n);
    }
}
