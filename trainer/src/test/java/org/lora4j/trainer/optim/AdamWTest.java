package org.lora4j.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.Parameter;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.adapters.safetensors.SafetensorsFile;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AdamWTest {

    static final double B1 = 0.9;
    static final double B2 = 0.999;
    static final double EPS = 1e-8;
    static final double WD = 0.1;
    static final double[] P0 = {0.5, -1.5};
    static final double[][] GRADS = {{0.1, -0.2}, {-0.3, 0.05}, {0.2, 0.4}};
    static final double[] LRS = {1e-2, 5e-3, 2e-2};

    @TempDir
    Path tmp;

    /** The AdamW update written out with plain doubles, independently of the ND4J code under test. */
    static double[][] referenceTrajectory() {
        double[] p = P0.clone();
        double[] m = new double[2];
        double[] v = new double[2];
        double[][] out = new double[3][];
        for (int t = 1; t <= 3; t++) {
            double lr = LRS[t - 1];
            for (int i = 0; i < 2; i++) {
                double g = GRADS[t - 1][i];
                p[i] -= lr * WD * p[i];
                m[i] = B1 * m[i] + (1 - B1) * g;
                v[i] = B2 * v[i] + (1 - B2) * g * g;
                double mHat = m[i] / (1 - Math.pow(B1, t));
                double vHat = v[i] / (1 - Math.pow(B2, t));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + EPS);
            }
            out[t - 1] = p.clone();
        }
        return out;
    }

    static Parameter param(String name, DataType dt, double[] values) {
        INDArray value = Nd4j.createFromArray(values).castTo(dt);
        return new Parameter(name, value, Nd4j.zeros(dt, values.length));
    }

    @Test
    void referenceMatchesHandComputedFirstStepAndGolden() {
        double[][] ref = referenceTrajectory();
        // step 1 by hand: decay 0.5 → 0.4995; m̂ = g = 0.1, √v̂ = 0.1, so the update is lr·0.1/(0.1+1e-8) = 0.009999999
        assertEquals(0.489500001, ref[0][0], 1e-15);
        // -1.5 → -1.49985; m̂ = -0.2, √v̂ = 0.2: update -lr·(1 − 5e-8) = -0.0099999995
        assertEquals(-1.4885000005, ref[0][1], 1e-15);
        // step 3, computed once with Python floats (same formula, see referenceTrajectory)
        assertEquals(0.49036699378456605, ref[2][0], 1e-15);
        assertEquals(-1.4904740846066402, ref[2][1], 1e-15);
    }

    @Test
    void doubleTrajectoryMatchesFormula() {
        double[][] ref = referenceTrajectory();
        Parameter p = param("w", DataType.DOUBLE, P0);
        AdamW opt = new AdamW(List.of(p), B1, B2, EPS, WD);
        for (int t = 0; t < 3; t++) {
            p.grad().assign(Nd4j.createFromArray(GRADS[t]));
            opt.step(LRS[t]);
            assertArrayEquals(ref[t], p.value().toDoubleVector(), 1e-15, "after step " + (t + 1));
        }
        assertEquals(3, opt.stepCount());
        assertArrayEquals(GRADS[2], p.grad().toDoubleVector(), 0.0, "step() must not touch the gradient");
    }

    @Test
    void floatTrajectoryMatchesFormula() {
        double[][] ref = referenceTrajectory();
        Parameter p = param("w", DataType.FLOAT, P0);
        AdamW opt = new AdamW(List.of(p), B1, B2, EPS, WD);
        for (int t = 0; t < 3; t++) {
            p.grad().assign(Nd4j.createFromArray(GRADS[t]).castTo(DataType.FLOAT));
            opt.step(LRS[t]);
            assertEquals(DataType.FLOAT, p.value().dataType());
            assertArrayEquals(ref[t], p.value().toDoubleVector(), 2e-7, "after step " + (t + 1));
        }
    }

    @Test
    void updatesAViewInPlace() {
        INDArray matrix = Nd4j.createFromArray(new double[][] {{1, 2}, {P0[0], P0[1]}});
        INDArray row = matrix.getRow(1);
        Parameter p = new Parameter("row", row, Nd4j.zeros(DataType.DOUBLE, 2));
        AdamW opt = new AdamW(List.of(p), B1, B2, EPS, WD);
        p.grad().assign(Nd4j.createFromArray(GRADS[0]));
        opt.step(LRS[0]);
        assertArrayEquals(referenceTrajectory()[0], matrix.getRow(1).toDoubleVector(), 1e-15);
        assertArrayEquals(new double[] {1, 2}, matrix.getRow(0).toDoubleVector(), 0.0);
    }

    /**
     * The one-pass Java update of dense parameters and the ND4J-op update of strided views take the same rounded
     * steps: the same trajectory, bit for bit, in FLOAT and DOUBLE.
     */
    @Test
    void denseAndStridedParametersAgreeBitwise() {
        for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            java.util.Random rnd = new java.util.Random(11);
            int n = 64;
            INDArray two = Nd4j.rand(dt, n, 2);
            INDArray column = two.getColumn(0);                      // stride 2: not dense, ND4J-op path
            Parameter strided = new Parameter("s", column, Nd4j.zeros(dt, n));
            Parameter dense = new Parameter("d", column.dup('c'), Nd4j.zeros(dt, n));
            AdamW a = new AdamW(List.of(strided), B1, B2, EPS, WD);
            AdamW b = new AdamW(List.of(dense), B1, B2, EPS, WD);
            for (int t = 0; t < 4; t++) {
                double[] g = new double[n];
                for (int i = 0; i < n; i++) {
                    g[i] = rnd.nextGaussian() * 0.1;
                }
                strided.grad().assign(Nd4j.createFromArray(g).castTo(dt));
                dense.grad().assign(Nd4j.createFromArray(g).castTo(dt));
                a.step(1e-2);
                b.step(1e-2);
            }
            assertTrue(column.elementWiseStride() != 1, "the strided parameter must take the ND4J-op path");
            assertArrayEquals(column.dup('c').toDoubleVector(), dense.value().toDoubleVector(), 0.0, dt.toString());
        }
    }

    /** Two parameters (a matrix and a vector) with gradients drawn from a seeded RNG, per step. */
    static List<Parameter> model(DataType dt) {
        Random r = new Random(7);
        INDArray a = Nd4j.create(dt, 2, 3);
        INDArray b = Nd4j.create(dt, 4);
        for (int i = 0; i < 6; i++) {
            a.putScalar(i, r.nextGaussian());
        }
        for (int i = 0; i < 4; i++) {
            b.putScalar(i, r.nextGaussian());
        }
        return List.of(new Parameter("layers.0.lora_A.weight", a, Nd4j.zeros(dt, 2, 3)),
                new Parameter("layers.0.lora_B.weight", b, Nd4j.zeros(dt, 4)));
    }

    static void setGrads(List<Parameter> ps, long step) {
        Random r = new Random(1000 + step);
        for (Parameter p : ps) {
            for (long i = 0; i < p.grad().length(); i++) {
                p.grad().putScalar(i, r.nextGaussian() * 0.01);
            }
        }
    }

    static void run(AdamW opt, List<Parameter> ps, int from, int to) {
        for (int s = from; s < to; s++) {
            setGrads(ps, s);
            opt.step(1e-2 * (s + 1));
        }
    }

    static List<INDArray> copy(List<Parameter> ps) {
        List<INDArray> out = new ArrayList<>();
        ps.forEach(p -> out.add(p.value().dup()));
        return out;
    }

    static boolean bitwiseEqual(INDArray a, INDArray b) {
        return a.dataType() == DataType.DOUBLE ? Arrays.equals(a.data().asDouble(), b.data().asDouble())
                : Arrays.equals(a.data().asFloat(), b.data().asFloat());
    }

    void resumeIsBitwise(DataType dt) {
        List<Parameter> straight = model(dt);
        AdamW a = new AdamW(straight, B1, B2, EPS, WD);
        run(a, straight, 0, 6);

        List<Parameter> first = model(dt);
        AdamW b = new AdamW(first, B1, B2, EPS, WD);
        run(b, first, 0, 3);
        Path file = tmp.resolve("optimizer-" + dt + ".safetensors");
        b.save(file);
        // a new process: fresh parameter objects holding the saved values, a fresh optimizer
        List<Parameter> resumed = new ArrayList<>();
        List<INDArray> values = copy(first);
        for (int i = 0; i < first.size(); i++) {
            resumed.add(new Parameter(first.get(i).name(), values.get(i), Nd4j.zeros(dt, values.get(i).shape())));
        }
        AdamW c = new AdamW(resumed, B1, B2, EPS, WD);
        c.load(file);
        assertEquals(3, c.stepCount());
        run(c, resumed, 3, 6);

        for (int i = 0; i < straight.size(); i++) {
            assertTrue(bitwiseEqual(straight.get(i).value(), resumed.get(i).value()),
                    straight.get(i).name() + ": " + straight.get(i).value() + " vs " + resumed.get(i).value());
        }
        // and the check can fail: without the moments the continuation differs
        List<Parameter> cold = new ArrayList<>();
        List<INDArray> values2 = copy(first);
        for (int i = 0; i < first.size(); i++) {
            cold.add(new Parameter(first.get(i).name(), values2.get(i), Nd4j.zeros(dt, values2.get(i).shape())));
        }
        run(new AdamW(cold, B1, B2, EPS, WD), cold, 3, 6);
        assertFalse(bitwiseEqual(straight.get(0).value(), cold.get(0).value()));
    }

    @Test
    void saveLoadMidRunContinuesBitwiseDouble() {
        resumeIsBitwise(DataType.DOUBLE);
    }

    @Test
    void saveLoadMidRunContinuesBitwiseFloat() {
        resumeIsBitwise(DataType.FLOAT);
    }

    @Test
    void savedFileIsSafetensorsWithDtypeAndMetadata() {
        List<Parameter> ps = new ArrayList<>(model(DataType.FLOAT));
        ps.add(param("d", DataType.DOUBLE, P0));
        AdamW opt = new AdamW(ps, B1, B2, EPS, WD);
        run(opt, ps, 0, 2);
        Path file = tmp.resolve("opt.safetensors");
        opt.save(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(6, f.names().size());
            assertEquals(DType.F32, f.info("layers.0.lora_A.weight.exp_avg").dtype());
            assertArrayEquals(new long[] {2, 3}, f.info("layers.0.lora_A.weight.exp_avg_sq").shape());
            assertEquals(DType.F64, f.info("d.exp_avg").dtype());
            assertEquals("2", f.metadata().get("step"));
            assertEquals("0.9,0.999", f.metadata().get("betas"));
            assertEquals("1.0E-8", f.metadata().get("eps"));
            assertEquals("0.1", f.metadata().get("weight_decay"));
        }
    }

    @Test
    void loadRejectsOtherParameters() {
        List<Parameter> ps = model(DataType.FLOAT);
        AdamW opt = new AdamW(ps, B1, B2, EPS, WD);
        run(opt, ps, 0, 1);
        Path file = tmp.resolve("opt.safetensors");
        opt.save(file);

        List<Parameter> renamed = List.of(ps.get(0), new Parameter("layers.1.lora_B.weight", ps.get(1).value(),
                ps.get(1).grad()));
        AdamW other = new AdamW(renamed, B1, B2, EPS, WD);
        String msg = assertThrows(IllegalArgumentException.class, () -> other.load(file)).getMessage();
        assertTrue(msg.contains("missing 2 (layers.1.lora_B.weight.exp_avg, layers.1.lora_B.weight.exp_avg_sq)"), msg);
        assertTrue(msg.contains("unexpected 2 (layers.0.lora_B.weight.exp_avg"), msg);
        assertEquals(0, other.stepCount());

        List<Parameter> reshaped = List.of(ps.get(0), new Parameter("layers.0.lora_B.weight",
                Nd4j.zeros(DataType.FLOAT, 5), Nd4j.zeros(DataType.FLOAT, 5)));
        msg = assertThrows(IllegalArgumentException.class,
                () -> new AdamW(reshaped, B1, B2, EPS, WD).load(file)).getMessage();
        assertTrue(msg.contains("'layers.0.lora_B.weight.exp_avg' is F32[4] but the parameter is F32[5]"), msg);
    }

    @Test
    void rejectsBadHyperparametersAndDtypes() {
        List<Parameter> ps = model(DataType.FLOAT);
        assertThrows(IllegalArgumentException.class, () -> new AdamW(ps, 1.0, B2, EPS, WD));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(ps, B1, B2, EPS, -1));
        Parameter half = new Parameter("h", Nd4j.zeros(DataType.HALF, 2), Nd4j.zeros(DataType.HALF, 2));
        String msg = assertThrows(IllegalArgumentException.class,
                () -> new AdamW(List.of(half), B1, B2, EPS, WD)).getMessage();
        assertTrue(msg.contains("'h' is HALF"), msg);
        assertThrows(IllegalArgumentException.class, () -> new AdamW(ps, B1, B2, EPS, WD).step(Double.NaN));
    }
}
