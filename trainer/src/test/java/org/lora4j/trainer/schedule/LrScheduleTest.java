package org.lora4j.trainer.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Values worked out by hand from transformers' optimization.py lambdas, for peak 1e-3, 10 warmup steps, 110 total
 * steps (so 100 decay steps): step s runs at peak · lambda(s).
 */
class LrScheduleTest {

    static final double PEAK = 1e-3;

    @Test
    void warmupIsStepOverWarmupStartingAtZero() {
        for (ScheduleType type : ScheduleType.values()) {
            LrSchedule s = LrSchedule.of(type, PEAK, 10, 110, 0);
            assertEquals(0.0, s.lr(0), 0.0, type + ": HF's first step runs at lr 0");
            assertEquals(0.5e-3, s.lr(5), 1e-18, type.name());
            assertEquals(0.9e-3, s.lr(9), 1e-18, type.name());
            assertEquals(PEAK, s.lr(10), 1e-18, type + ": the first step after warmup runs at the peak");
        }
        // one warmup step: lambda(0) = 0/1
        assertEquals(0.0, LrSchedule.of(ScheduleType.COSINE, PEAK, 1, 10, 0).lr(0), 0.0);
        // no warmup: the first step is at the peak
        assertEquals(PEAK, LrSchedule.of(ScheduleType.LINEAR, PEAK, 0, 10, 0).lr(0), 0.0);
    }

    @Test
    void constantStaysAtPeak() {
        LrSchedule s = LrSchedule.of(ScheduleType.CONSTANT, PEAK, 4, 0, 0);
        assertInstanceOf(LrSchedule.Constant.class, s);
        assertEquals(0.25e-3, s.lr(1), 1e-18);
        assertEquals(0.75e-3, s.lr(3), 1e-18);
        assertEquals(PEAK, s.lr(4), 0.0);
        assertEquals(PEAK, s.lr(1_000_000), 0.0);
    }

    @Test
    void linearDecaysToZeroAtTotal() {
        LrSchedule s = LrSchedule.of(ScheduleType.LINEAR, PEAK, 10, 110, 0);
        assertEquals(0.99e-3, s.lr(11), 1e-18);   // (110 − 11) / 100
        assertEquals(0.5e-3, s.lr(60), 1e-18);    // (110 − 60) / 100
        assertEquals(0.01e-3, s.lr(109), 1e-18);  // the last step
        assertEquals(0.0, s.lr(110), 0.0);
        assertEquals(0.0, s.lr(200), 0.0);        // max(0, ...)
    }

    @Test
    void linearWithFloorEndsAtFloor() {
        LrSchedule s = LrSchedule.of(ScheduleType.LINEAR, PEAK, 10, 110, 0.2);
        assertEquals(0.6e-3, s.lr(60), 1e-18);    // 0.2 + 0.8 · 0.5
        assertEquals(0.2e-3, s.lr(110), 1e-18);
    }

    @Test
    void cosineFollowsHalfACosine() {
        LrSchedule s = LrSchedule.of(ScheduleType.COSINE, PEAK, 10, 110, 0);
        assertEquals(0.8535533905932737e-3, s.lr(35), 1e-18); // progress 0.25: 0.5 · (1 + cos(π/4))
        assertEquals(0.5e-3, s.lr(60), 1e-18);                 // progress 0.5: cos(π/2) = 0
        assertEquals(0.1464466094067262e-3, s.lr(85), 1e-18); // progress 0.75: 0.5 · (1 − cos(π/4))
        assertEquals(0.0, s.lr(110), 1e-18);                  // progress 1
        assertTrue(s.lr(109) > 0 && s.lr(109) < 1e-6);        // 0.5·(1 + cos(0.99π)) = 2.467e-4 · peak
        assertEquals(0.5 * (1 + Math.cos(0.99 * Math.PI)) * PEAK, s.lr(109), 1e-18);
    }

    @Test
    void cosineWithMinLrRatioRescales() {
        // HF get_cosine_with_min_lr_schedule_with_warmup: factor · (1 − f) + f
        LrSchedule s = LrSchedule.of(ScheduleType.COSINE, PEAK, 10, 110, 0.1);
        assertEquals(PEAK, s.lr(10), 1e-18);
        assertEquals(0.55e-3, s.lr(60), 1e-18);   // 0.5 · 0.9 + 0.1
        assertEquals(0.1e-3, s.lr(110), 1e-18);
        assertEquals(0.5e-3, s.lr(5), 1e-18);     // warmup is not floored, as in HF: 5/10 · peak
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.of(ScheduleType.COSINE, 0, 0, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.of(ScheduleType.COSINE, PEAK, -1, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.of(ScheduleType.LINEAR, PEAK, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.of(ScheduleType.COSINE, PEAK, 0, 10, 1.5));
        String msg = assertThrows(IllegalArgumentException.class,
                () -> LrSchedule.of(ScheduleType.CONSTANT, PEAK, 0, 10, 0.1)).getMessage();
        assertTrue(msg.contains("constant schedule never decays"), msg);
    }
}
