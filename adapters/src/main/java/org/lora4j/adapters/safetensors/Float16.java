package org.lora4j.adapters.safetensors;

/**
 * Conversions between float and the two 16-bit float formats of safetensors checkpoints:
 * IEEE 754 binary16 (F16: 1 sign, 5 exponent, 10 mantissa bits) and bfloat16 (BF16: the top 16 bits of a float).
 * Narrowing rounds to nearest, ties to even, like PyTorch's {@code tensor.to(torch.half / torch.bfloat16)}.
 * (Java 17 has no {@code Float.float16ToFloat}; that arrived in Java 20.)
 */
public final class Float16 {

    private Float16() {
    }

    /** The canonical quiet NaN PyTorch writes for every bf16 NaN (c10::detail::round_to_nearest_even). */
    public static final short BF16_NAN = 0x7FC0;

    /** Widens a bfloat16 (bit pattern) to float; exact. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Narrows a float to bfloat16, round to nearest even; overflow goes to infinity, NaN becomes {@link #BF16_NAN}. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return BF16_NAN;
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** Widens an IEEE binary16 (bit pattern) to float; exact, including subnormals, infinities and NaN payloads. */
    public static float halfToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): mant · 2^-24, exact in float
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 127 - 15) << 23) | (mant << 13));
    }

    /**
     * Narrows a float to IEEE binary16, round to nearest even. Magnitudes from 65520 up become infinity, magnitudes
     * below 2^-14 become subnormals (down to 2^-24), at most 2^-25 become zero; NaN stays NaN (quiet).
     */
    public static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;
        if (abs >= 0x7F800000) {
            if (abs == 0x7F800000) {
                return (short) (sign | 0x7C00);
            }
            return (short) (sign | 0x7E00 | ((abs >>> 13) & 0x3FF)); // quiet NaN, keeps the top payload bits
        }
        if (abs >= 0x477FF000) { // 65520 = 65504 + half an ulp; the tie goes to the even neighbour, infinity
            return (short) (sign | 0x7C00);
        }
        if (abs >= 0x38800000) { // normal half: |f| >= 2^-14
            int half = ((abs >>> 23) - 127 + 15) << 10 | (abs & 0x7FFFFF) >>> 13;
            return (short) (sign | roundEven(half, abs & 0x1FFF, 0x1000));
        }
        int exp = abs >>> 23;
        if (exp < 102) { // |f| < 2^-25: below half the smallest subnormal
            return (short) sign;
        }
        int mant = (abs & 0x7FFFFF) | 0x800000; // |f| = mant · 2^(exp-150); in units of 2^-24 that is mant >> (126-exp)
        int shift = 126 - exp; // 14..24
        return (short) (sign | roundEven(mant >>> shift, mant & ((1 << shift) - 1), 1 << (shift - 1)));
    }

    /** Rounds {@code truncated} up when the dropped bits exceed half, or equal half and truncated is odd. */
    private static int roundEven(int truncated, int dropped, int halfway) {
        if (dropped > halfway || (dropped == halfway && (truncated & 1) != 0)) {
            return truncated + 1; // a carry into the exponent field is the correct next value
        }
        return truncated;
    }
}
