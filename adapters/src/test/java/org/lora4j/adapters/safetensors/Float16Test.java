package org.lora4j.adapters.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * F16 and BF16 conversions. Known values were checked with numpy ({@code np.float32(x).astype(np.float16)});
 * the rounding sweeps compare against the definition (nearest representable value, ties to the even pattern)
 * at every rounding boundary, using only the exact widening direction.
 */
class Float16Test {

    private static void assertHalf(int expectedBits, float f) {
        assertEquals(expectedBits, Float16.floatToHalf(f) & 0xFFFF,
                () -> f + " -> expected 0x" + Integer.toHexString(expectedBits) + " got 0x"
                        + Integer.toHexString(Float16.floatToHalf(f) & 0xFFFF));
    }

    private static void assertBf16(int expectedBits, float f) {
        assertEquals(expectedBits, Float16.floatToBf16(f) & 0xFFFF,
                () -> f + " -> expected 0x" + Integer.toHexString(expectedBits) + " got 0x"
                        + Integer.toHexString(Float16.floatToBf16(f) & 0xFFFF));
    }

    @Test
    void halfToFloatKnownValues() {
        assertEquals(Float.floatToRawIntBits(0.0f), Float.floatToRawIntBits(Float16.halfToFloat((short) 0x0000)));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(Float16.halfToFloat((short) 0x8000)));
        assertEquals(1.0f, Float16.halfToFloat((short) 0x3C00));
        assertEquals(-2.0f, Float16.halfToFloat((short) 0xC000));
        assertEquals(1.5f, Float16.halfToFloat((short) 0x3E00));
        assertEquals(65504.0f, Float16.halfToFloat((short) 0x7BFF));
        assertEquals(0.333251953125f, Float16.halfToFloat((short) 0x3555));
        assertEquals(0x1p-24f, Float16.halfToFloat((short) 0x0001), "smallest subnormal");
        assertEquals(-0x1p-24f, Float16.halfToFloat((short) 0x8001));
        assertEquals(1023 * 0x1p-24f, Float16.halfToFloat((short) 0x03FF), "largest subnormal");
        assertEquals(0x1p-14f, Float16.halfToFloat((short) 0x0400), "smallest normal");
        assertEquals(Float.POSITIVE_INFINITY, Float16.halfToFloat((short) 0x7C00));
        assertEquals(Float.NEGATIVE_INFINITY, Float16.halfToFloat((short) 0xFC00));
        assertTrue(Float.isNaN(Float16.halfToFloat((short) 0x7E00)));
        assertTrue(Float.isNaN(Float16.halfToFloat((short) 0x7C01)), "signalling NaN pattern is still NaN");
    }

    @Test
    void floatToHalfKnownValues() {
        assertHalf(0x3C00, 1.0f);
        assertHalf(0xC000, -2.0f);
        assertHalf(0x2E66, 0.1f);
        assertHalf(0x8000, -0.0f);
        assertHalf(0x7BFF, 65504f);
        assertHalf(0x7BFF, 65519f);
        assertHalf(0x7C00, 65520f); // half-way to 65536: ties to even, i.e. overflows to infinity
        assertHalf(0x7C00, 1e6f);
        assertHalf(0xFC00, -1e6f);
        assertHalf(0x7C00, Float.POSITIVE_INFINITY);
        assertHalf(0xFC00, Float.NEGATIVE_INFINITY);
        assertHalf(0x0001, 0x1p-24f);
        assertHalf(0x03FF, 1023 * 0x1p-24f);
        assertHalf(0x0400, 0x1p-14f);
        assertHalf(0x0000, 0x1p-25f); // tie between 0 and the smallest subnormal: even is 0
        assertHalf(0x8000, -0x1p-25f);
        assertHalf(0x0001, Math.nextUp(0x1p-25f));
        assertHalf(0x0002, 3 * 0x1p-25f); // 1.5 subnormal units: tie, rounds to the even 2
        assertHalf(0x0002, 5 * 0x1p-25f); // 2.5 units: tie, rounds to the even 2
        assertHalf(0x0000, Float.MIN_VALUE);
        assertHalf(0x3C00, 1 + 0x1p-11f); // tie between 1 and 1+2^-10: even mantissa 0
        assertHalf(0x3C02, 1 + 3 * 0x1p-11f); // tie between mantissa 1 and 2: even 2
        assertHalf(0x3C01, Math.nextUp(1 + 0x1p-11f));
        short nan = Float16.floatToHalf(Float.NaN);
        assertTrue(Float.isNaN(Float16.halfToFloat(nan)), "NaN stays NaN");
        assertTrue(Float.isNaN(Float16.halfToFloat(Float16.floatToHalf(Float.intBitsToFloat(0x7F800001)))),
                "a NaN whose payload sits in the dropped bits must not become infinity");
    }

    @Test
    void everyHalfSurvivesARoundTrip() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Float16.halfToFloat((short) h);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Float16.halfToFloat(Float16.floatToHalf(f))), "NaN 0x" + Integer.toHexString(h));
            } else {
                assertEquals(h, Float16.floatToHalf(f) & 0xFFFF, "0x" + Integer.toHexString(h));
            }
        }
    }

    /** For each pair of neighbouring halves, values just below, at and just above the midpoint round correctly. */
    @Test
    void floatToHalfRoundsToNearestEvenAtEveryBoundary() {
        for (int lo = 0; lo < 0x7C00; lo++) {
            int hi = lo + 1; // 0x7BFF + 1 = 0x7C00 is infinity; its "value" for rounding is 65536
            double a = Float16.halfToFloat((short) lo);
            double b = hi == 0x7C00 ? 65536.0 : Float16.halfToFloat((short) hi);
            float mid = (float) ((a + b) / 2);
            assertEquals((a + b) / 2, mid, 0.0, "the midpoint must be exact in float");
            int even = (lo & 1) == 0 ? lo : hi;
            for (int sign : new int[] {0, 0x8000}) {
                float s = sign == 0 ? 1f : -1f;
                assertHalf(sign | even, s * mid);
                assertHalf(sign | lo, s * Math.nextDown(mid));
                assertHalf(sign | hi, s * Math.nextUp(mid));
            }
        }
    }

    @Test
    void bf16KnownValues() {
        assertEquals(1.0f, Float16.bf16ToFloat((short) 0x3F80));
        assertEquals(-2.0f, Float16.bf16ToFloat((short) 0xC000));
        assertEquals(Float.intBitsToFloat(0x00010000), Float16.bf16ToFloat((short) 0x0001), "subnormal");
        assertEquals(Float.POSITIVE_INFINITY, Float16.bf16ToFloat((short) 0x7F80));
        assertBf16(0x3F80, 1.0f);
        assertBf16(0x3F80, 1.00390625f); // 1 + 2^-8: tie between 1 and 1+2^-7, even is 1
        assertBf16(0xBF80, -1.00390625f);
        assertBf16(0x3F81, Math.nextUp(1.00390625f));
        assertBf16(0x3F82, 1.01171875f); // 1 + 3*2^-8: tie between mantissa 1 and 2, even is 2
        assertBf16(0x3F81, Math.nextDown(1.01171875f));
        assertBf16(0x4049, (float) Math.PI); // 3.140625
        assertBf16(0x7F80, Float.MAX_VALUE); // rounds up past the largest bf16 to infinity, as PyTorch does
        assertBf16(0x7F80, Float.POSITIVE_INFINITY);
        assertBf16(0xFF80, Float.NEGATIVE_INFINITY);
        assertBf16(0x8000, -0.0f);
        assertBf16(0x7FC0, Float.NaN);
        assertBf16(0x7FC0, Float.intBitsToFloat(0xFFC00001)); // every NaN becomes PyTorch's canonical 0x7FC0
        assertBf16(0x7FC0, Float.intBitsToFloat(0x7F800001)); // and never infinity
    }

    @Test
    void bf16RoundsToNearestEvenAtEveryBoundary() {
        for (int lo = 0; lo < 0x7F80; lo++) {
            int mid = (lo << 16) | 0x8000; // exactly half-way between lo and lo+1
            int even = (lo & 1) == 0 ? lo : lo + 1;
            assertBf16(even, Float.intBitsToFloat(mid));
            assertBf16(lo, Float.intBitsToFloat(mid - 1));
            assertBf16(lo + 1, Float.intBitsToFloat(mid + 1));
            assertBf16(0x8000 | even, -Float.intBitsToFloat(mid));
            assertEquals(Float.intBitsToFloat(lo << 16), Float16.bf16ToFloat((short) lo));
        }
    }
}
