package org.lora4j.adapters.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing safetensors files: exact bytes, round trips through the reader, atomicity, and refused inputs. */
class SafetensorsWriterTest {

    @TempDir
    Path dir;

    static SafetensorsWriter.Tensor tensor(String name, DType dtype, long[] shape, float... values) {
        return new SafetensorsWriter.Tensor(name, dtype, shape, () -> values.clone());
    }

    private List<String> folder() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void smallFileIsByteExact() throws IOException {
        Path p = dir.resolve("model.safetensors");
        SafetensorsWriter.write(p, List.of(tensor("a", DType.F32, new long[] {2}, 1.0f, -2.0f)),
                Map.of("format", "pt"));
        byte[] expected = concat(
                new byte[] {88, 0, 0, 0, 0, 0, 0, 0}, // 85 bytes of JSON + 3 spaces = 88, a multiple of 8
                ascii("{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"),
                ascii("   "),
                new byte[] {0, 0, (byte) 0x80, 0x3F, 0, 0, 0, (byte) 0xC0}); // 1.0f, -2.0f little-endian
        assertArrayEquals(expected, Files.readAllBytes(p));
    }

    @Test
    void layoutIsWidestDtypeFirstThenByName() throws IOException {
        Path p = dir.resolve("mixed.safetensors");
        SafetensorsWriter.write(p, List.of(
                tensor("a", DType.F16, new long[] {1}, 1.5f),
                tensor("b", DType.BF16, new long[] {1, 1}, -2f),
                tensor("d", DType.F32, new long[] {}, 0.5f),
                tensor("c", DType.F32, new long[] {0})), null);
        String json = "{\"c\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                + "\"d\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,1],\"data_offsets\":[4,6]},"
                + "\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[6,8]}}";
        assertEquals(216, json.length() + 1); // 215 bytes of JSON, padded with one space
        byte[] expected = concat(new byte[] {(byte) 216, 0, 0, 0, 0, 0, 0, 0}, ascii(json), ascii(" "),
                new byte[] {0, 0, 0, 0x3F, 0, (byte) 0xC0, 0, 0x3E}); // 0.5f, bf16 -2 = 0xC000, f16 1.5 = 0x3E00
        assertArrayEquals(expected, Files.readAllBytes(p));
    }

    /** Same tensors and metadata as {@link SafetensorsFileTest#GOLDEN}: the reference writer's exact bytes. */
    @Test
    void matchesTheReferenceWriter() throws IOException {
        Path p = dir.resolve("golden.safetensors");
        SafetensorsWriter.write(p, List.of(
                tensor("z", DType.F32, new long[] {2, 2}, 1, -2, 3, 4),
                tensor("b", DType.F16, new long[] {3}, 1.5f, 65504f, 0x1p-24f),
                tensor("s", DType.F32, new long[] {}, 0.5f)), Map.of("format", "pt"));
        assertArrayEquals(SafetensorsFileTest.GOLDEN, Files.readAllBytes(p));
    }

    @Test
    void roundTripF32IsExact() throws IOException {
        Random rnd = new Random(1);
        float[] v = new float[3 * 1000];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian() * 10;
        }
        v[0] = Float.MIN_VALUE;
        v[1] = Float.NEGATIVE_INFINITY;
        v[2] = -0.0f;
        Path p = dir.resolve("f32.safetensors");
        SafetensorsWriter.write(p, List.of(tensor("model.embed_tokens.weight", DType.F32, new long[] {3, 1000}, v)),
                Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(v, f.readFloat32("model.embed_tokens.weight"));
            assertEquals(Map.of(), f.metadata());
            assertArrayEquals(new long[] {3, 1000}, f.info("model.embed_tokens.weight").shape());
        }
    }

    @Test
    void roundTripF16() throws IOException {
        float[] in = {1f, -2f, 0.1f, 65504f, 65520f, -1e6f, 0x1p-24f, 0x1p-25f, 3 * 0x1p-25f, 1023 * 0x1p-24f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1 + 3 * 0x1p-11f};
        float[] want = {1f, -2f, 0.0999755859375f, 65504f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                0x1p-24f, 0f, 2 * 0x1p-24f, 1023 * 0x1p-24f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.NaN, 1 + 0x1p-9f};
        Path p = dir.resolve("f16.safetensors");
        SafetensorsWriter.write(p, List.of(tensor("h", DType.F16, new long[] {2, 7}, in)), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(DType.F16, f.info("h").dtype());
            assertEquals(28, f.info("h").byteLength());
            assertArrayEquals(want, f.readFloat32("h")); // assertArrayEquals treats NaN as equal to NaN
            assertEquals(0x0001, f.rawBytes("h").getShort(12)); // the subnormal 2^-24 as raw bits
        }
    }

    @Test
    void roundTripBf16() throws IOException {
        float[] in = {1.00390625f, Math.nextUp(1.00390625f), 1.01171875f, -3f, Float.MAX_VALUE, Float.NaN, 0f};
        float[] want = {1f, 1.0078125f, 1.015625f, -3f, Float.POSITIVE_INFINITY, Float.NaN, 0f};
        Path p = dir.resolve("bf16.safetensors");
        SafetensorsWriter.write(p, List.of(tensor("w", DType.BF16, new long[] {7}, in)), Map.of("format", "pt"));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(want, f.readFloat32("w"));
            assertEquals(Float16.BF16_NAN, f.rawBytes("w").getShort(10));
            assertEquals(Map.of("format", "pt"), f.metadata());
        }
    }

    @Test
    void largeTensorSpansManyWriteChunks() throws IOException {
        float[] v = new float[700_001]; // 2.8 MB: crosses the 1 MiB write buffer several times, with a remainder
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        Path p = dir.resolve("big.safetensors");
        SafetensorsWriter.write(p, List.of(tensor("v", DType.F32, new long[] {v.length}, v),
                tensor("h", DType.BF16, new long[] {v.length}, v)), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(v, f.readFloat32("v"));
            float[] h = f.readFloat32("h");
            for (int i = 0; i < v.length; i += 997) {
                assertEquals(Float16.bf16ToFloat(Float16.floatToBf16(v[i])), h[i]);
            }
        }
    }

    @Test
    void writeLeavesNoTemporaryFile() throws IOException {
        SafetensorsWriter.write(dir.resolve("model.safetensors"), List.of(tensor("a", DType.F32, new long[] {1}, 1f)),
                Map.of());
        assertEquals(List.of("model.safetensors"), folder());
    }

    @Test
    void failingSupplierKeepsTheExistingFile() throws IOException {
        Path p = dir.resolve("model.safetensors");
        SafetensorsWriter.write(p, List.of(tensor("a", DType.F32, new long[] {2}, 1f, 2f)), Map.of());
        byte[] before = Files.readAllBytes(p);
        Supplier<float[]> boom = () -> {
            throw new IllegalStateException("out of coffee");
        };
        List<SafetensorsWriter.Tensor> tensors = List.of(tensor("a", DType.F32, new long[] {4}, 1, 2, 3, 4),
                new SafetensorsWriter.Tensor("b", DType.F32, new long[] {4}, boom));
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsWriter.write(p, tensors,
                Map.of()));
        assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("out of coffee")
                && e.getMessage().contains("unchanged"), e.getMessage());
        assertTrue(e.getCause() instanceof IllegalStateException);
        assertArrayEquals(before, Files.readAllBytes(p));
        assertEquals(List.of("model.safetensors"), folder());
    }

    @Test
    void supplierWithTheWrongLengthIsRefused() throws IOException {
        Path p = dir.resolve("x.safetensors");
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsWriter.write(p,
                List.of(tensor("w", DType.F16, new long[] {2, 3}, 1, 2, 3)), Map.of()));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("6 values were expected")
                && e.getMessage().contains("gave 3 values"), e.getMessage());
        assertEquals(List.of(), folder());
    }

    @Test
    void invalidTensorsAreRefusedBeforeWriting() throws IOException {
        Path p = dir.resolve("x.safetensors");
        assertRefused(p, List.of(tensor("w", DType.F32, new long[] {1}, 1), tensor("w", DType.F32, new long[] {1}, 1)),
                "'w'", "appears twice");
        assertRefused(p, List.of(tensor("i", DType.I32, new long[] {1}, 1)), "'i'", "dtype I32", "F32, F16 or BF16");
        assertRefused(p, List.of(tensor("n", DType.F32, new long[] {-1})), "'n'", "negative dimension");
        assertRefused(p, List.of(tensor("__metadata__", DType.F32, new long[] {0})), "reserved");
        assertRefused(p, List.of(tensor("huge", DType.F32, new long[] {1 << 30})), "'huge'", "2 GiB");
        assertEquals(List.of(), folder());
    }

    private static void assertRefused(Path p, List<SafetensorsWriter.Tensor> tensors, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsWriter.write(p, tensors,
                null));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void headerLengthPrefixIsLittleEndianAndPadded() throws IOException {
        Path p = dir.resolve("pad.safetensors");
        for (int len = 0; len < 9; len++) {
            String name = "n".repeat(len + 1);
            SafetensorsWriter.write(p, List.of(tensor(name, DType.F32, new long[] {1}, 1f)), Map.of());
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
            long n = b.getLong(0);
            assertEquals(0, n % 8, "header length " + n);
            assertEquals(8 + n + 4, b.capacity());
            assertEquals(1f, b.getFloat((int) (8 + n)));
        }
    }
}
