package org.lora4j.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lora4j.adapters.Parameter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class GradClipTest {

    /** Gradients [3, 4] and [[12]]: global norm √(9 + 16 + 144) = 13. */
    static List<Parameter> params(DataType dt) {
        return List.of(
                new Parameter("a", Nd4j.zeros(dt, 2), Nd4j.createFromArray(3.0, 4.0).castTo(dt)),
                new Parameter("b", Nd4j.zeros(dt, 1, 1), Nd4j.createFromArray(new double[][] {{12}}).castTo(dt)));
    }

    @Test
    void scalesByMaxNormOverNormPlusEpsilon() {
        List<Parameter> ps = params(DataType.DOUBLE);
        double norm = GradClip.clipGlobalNorm(ps, 6.5);
        assertEquals(13.0, norm, 0.0);
        double c = 6.5 / (13.0 + 1e-6);
        assertArrayEquals(new double[] {3 * c, 4 * c}, ps.get(0).grad().toDoubleVector(), 1e-15);
        assertEquals(12 * c, ps.get(1).grad().getDouble(0, 0), 1e-15);
        // the clipped global norm is maxNorm (up to the 1e-6 guard)
        assertEquals(6.5, GradClip.clipGlobalNorm(ps, 0), 1e-6);
    }

    @Test
    void floatGradients() {
        List<Parameter> ps = params(DataType.FLOAT);
        assertEquals(13.0, GradClip.clipGlobalNorm(ps, 1.0), 1e-6);
        assertEquals(DataType.FLOAT, ps.get(0).grad().dataType());
        assertArrayEquals(new float[] {3 / 13f, 4 / 13f}, ps.get(0).grad().toFloatVector(), 1e-6f);
    }

    @Test
    void leavesSmallGradientsAndDisabledClippingAlone() {
        List<Parameter> ps = params(DataType.DOUBLE);
        assertEquals(13.0, GradClip.clipGlobalNorm(ps, 100), 0.0);
        assertArrayEquals(new double[] {3, 4}, ps.get(0).grad().toDoubleVector(), 0.0);
        assertEquals(13.0, GradClip.clipGlobalNorm(ps, 0), 0.0);
        assertEquals(13.0, GradClip.clipGlobalNorm(ps, -1), 0.0);
        assertArrayEquals(new double[] {3, 4}, ps.get(0).grad().toDoubleVector(), 0.0);
    }

    @Test
    void nonFiniteNormIsReturnedAndNothingIsScaled() {
        List<Parameter> ps = params(DataType.FLOAT);
        ps.get(1).grad().putScalar(0, Float.NaN);
        assertTrue(Double.isNaN(GradClip.clipGlobalNorm(ps, 1.0)));
        assertArrayEquals(new float[] {3, 4}, ps.get(0).grad().toFloatVector(), 0f);
        ps.get(1).grad().putScalar(0, Float.POSITIVE_INFINITY);
        assertEquals(Double.POSITIVE_INFINITY, GradClip.clipGlobalNorm(ps, 1.0));
        assertArrayEquals(new float[] {3, 4}, ps.get(0).grad().toFloatVector(), 0f);
    }

    @Test
    void normIsAccumulatedInDouble() {
        // 1e20² overflows float but not double: the norm must still be 1e20·√2
        List<Parameter> ps = List.of(new Parameter("big", Nd4j.zeros(DataType.FLOAT, 2),
                Nd4j.createFromArray(1e20f, 1e20f)));
        assertEquals(1e20 * Math.sqrt(2), GradClip.clipGlobalNorm(ps, 0), 1e14);
    }
}
