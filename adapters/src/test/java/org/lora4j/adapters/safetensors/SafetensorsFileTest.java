package org.lora4j.adapters.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading safetensors files: a golden file from the reference implementation, and malformed headers. */
class SafetensorsFileTest {

    /**
     * Made by the reference implementation (safetensors 0.8.0, Python):
     * <pre>
     * from safetensors.numpy import save
     * b = save({'z': np.array([[1,-2],[3,4]], dtype=np.float32), 'b': np.array([1.5, 65504, 2.0**-24], dtype=np.float16),
     *           's': np.array(0.5, dtype=np.float32)}, metadata={'format': 'pt'}); print(b.hex())
     * </pre>
     */
    static final byte[] GOLDEN = HexFormat.of().parseHex("c8000000000000007b225f5f6d657461646174615f5f223a7b22666f726d"
            + "6174223a227074227d2c2273223a7b226474797065223a22463332222c227368617065223a5b5d2c22646174615f6f66667365"
            + "7473223a5b302c345d7d2c227a223a7b226474797065223a22463332222c227368617065223a5b322c325d2c22646174615f6f"
            + "666673657473223a5b342c32305d7d2c2262223a7b226474797065223a22463136222c227368617065223a5b335d2c2264617461"
            + "5f6f666673657473223a5b32302c32365d7d7d20202020200000003f0000803f000000c00000404000008040003eff7b0100");

    @TempDir
    Path dir;

    /** A file with the given header JSON (its true length) followed by {@code data}. */
    static Path file(Path dir, String headerJson, byte[] data) throws IOException {
        byte[] h = headerJson.getBytes(StandardCharsets.UTF_8);
        return file(dir, h.length, h, data);
    }

    static Path file(Path dir, long declaredLength, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header).put(data);
        Path p = Files.createTempFile(dir, "t", ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    /** Opening must fail with one CheckpointException naming the file and containing every fragment. */
    private static CheckpointException assertBad(Path p, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(p).close());
        assertTrue(e.getMessage().contains(p.toString()), () -> "no file path in: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
        return e;
    }

    private static final String CORRUPT = "re-download";

    @Test
    void readsTheReferenceGoldenFile() throws IOException {
        Path p = dir.resolve("golden.safetensors");
        Files.write(p, GOLDEN);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("s", "z", "b"), f.names());
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(8 + 200, f.dataStart());
            assertEquals(new TensorInfo("z", DType.F32, new long[] {2, 2}, 4, 20), f.info("z"));
            assertArrayEquals(new long[0], f.info("s").shape());
            assertEquals(1, f.info("s").numel());
            assertArrayEquals(new float[] {0.5f}, f.readFloat32("s"));
            assertArrayEquals(new float[] {1, -2, 3, 4}, f.readFloat32("z"));
            assertArrayEquals(new float[] {1.5f, 65504f, 0x1p-24f}, f.readFloat32("b"));
            assertTrue(f.contains("b"));
            assertFalse(f.contains("a"));
        }
    }

    /** Positional reads into a native buffer give readFloat32's values, for F32 and a converted (F16) tensor. */
    @Test
    void readFloat32IntoADirectBufferEqualsReadFloat32() throws IOException {
        Path p = dir.resolve("golden-into.safetensors");
        Files.write(p, GOLDEN);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            for (String name : List.of("s", "z", "b")) {
                float[] want = f.readFloat32(name);
                ByteBuffer dst = ByteBuffer.allocateDirect(4 * want.length + 8).order(ByteOrder.nativeOrder());
                dst.position(4);
                f.readFloat32Into(name, dst);
                float[] got = new float[want.length];
                for (int i = 0; i < got.length; i++) {
                    got[i] = dst.getFloat(4 + 4 * i);
                }
                assertArrayEquals(want, got, name);
            }
            assertThrows(IllegalArgumentException.class, () -> f.readFloat32Into("z", ByteBuffer.allocateDirect(8)));
        }
    }

    @Test
    void rawBytesIsALittleEndianReadOnlySlice() throws IOException {
        byte[] data = {1, 0, 0, 0, -2, -1, -1, -1, 9};
        Path p = file(dir, "{\"i\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[8,9]}}", data);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            ByteBuffer b = f.rawBytes("i");
            assertTrue(b.isReadOnly());
            assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
            assertEquals(8, b.remaining());
            assertEquals(1, b.getInt(0));
            assertEquals(-2, b.getInt(4));
            assertEquals(9, f.rawBytes("u").get(0));
            CheckpointException e = assertThrows(CheckpointException.class, () -> f.readFloat32("i"));
            assertTrue(e.getMessage().contains("'i'") && e.getMessage().contains("I32")
                    && e.getMessage().contains("rawBytes"), e.getMessage());
        }
    }

    @Test
    void readsF64AsFloat() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.25).putDouble(-1e300);
        Path p = file(dir, "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", data.array());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {0.25f, Float.NEGATIVE_INFINITY}, f.readFloat32("d"));
        }
    }

    @Test
    void missingTensorNameSaysWhereAndSuggests() throws IOException {
        Path p = dir.resolve("golden.safetensors");
        Files.write(p, GOLDEN);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> f.info("model.z"));
            assertTrue(e.getMessage().contains("'model.z' not found in " + p), e.getMessage());
            assertTrue(e.getMessage().contains("did you mean 'z'"), e.getMessage());
            assertTrue(e.getMessage().contains("s, z, b"), e.getMessage());
            assertThrows(CheckpointException.class, () -> f.readFloat32("nope"));
        }
    }

    @Test
    void readingAfterCloseIsAClearError() throws IOException {
        Path p = dir.resolve("golden.safetensors");
        Files.write(p, GOLDEN);
        SafetensorsFile f = SafetensorsFile.open(p);
        f.close();
        CheckpointException e = assertThrows(CheckpointException.class, () -> f.readFloat32("z"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void missingFileAndFolder() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> SafetensorsFile.open(dir.resolve("absent.safetensors")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(dir));
        assertTrue(e.getMessage().contains("Checkpoint.open"), e.getMessage());
    }

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[] {5, 0, 0});
        assertBad(p, "is 3 bytes", "too short", CORRUPT);
    }

    @Test
    void headerLengthBiggerThanTheFile() throws IOException {
        assertBad(file(dir, 1000, "{}".getBytes(StandardCharsets.UTF_8), new byte[8]),
                "header length", "is 1000", "at most 10", "the file is 18 bytes", CORRUPT);
        assertBad(file(dir, -1, new byte[0], new byte[0]), "18446744073709551615", "at most 100000000");
    }

    @Test
    void headerLengthZero() throws IOException {
        assertBad(file(dir, 0, new byte[0], new byte[16]), "header length", "is 0", "at least 2", CORRUPT);
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        assertBad(file(dir, "this is not json", new byte[0]), "not valid UTF-8 JSON", CORRUPT);
        assertBad(file(dir, "[1, 2]", new byte[0]), "not an object", "ARRAY");
        assertBad(file(dir, "{\"a\":1} trailing", new byte[0]), "not valid UTF-8 JSON");
        assertBad(file(dir, 2, new byte[] {(byte) 0xFF, (byte) 0xFE}, new byte[0]), "not valid UTF-8 JSON");
    }

    @Test
    void offsetsPastTheEnd() throws IOException {
        assertBad(file(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[4]),
                "tensor 'w'", "[0, 8]", "past the end", "(4 bytes)", CORRUPT);
    }

    @Test
    void byteCountDoesNotMatchTheShape() throws IOException {
        assertBad(file(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]),
                "tensor 'w'", "[3] of F32 needs 12 bytes", "hold 8", CORRUPT);
        assertBad(file(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", new byte[8]),
                "tensor 'w'", "end before they begin");
        assertBad(file(dir, "{\"w\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,4294967296],"
                + "\"data_offsets\":[0,8]}}", new byte[8]), "tensor 'w'", "more bytes than a long can count");
    }

    @Test
    void overlappingRanges() throws IOException {
        assertBad(file(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]),
                "'a' (bytes [0, 8))", "'b' (bytes [4, 12))", "overlap", CORRUPT);
    }

    @Test
    void unknownDtype() throws IOException {
        assertBad(file(dir, "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[2]),
                "tensor 'w'", "unknown dtype \"F8_E4M3\"", "F64, F32, F16, BF16", "convert");
        assertBad(file(dir, "{\"w\":{\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[2]),
                "tensor 'w'", "\"dtype\" is missing");
    }

    @Test
    void negativeOrFractionalDimension() throws IOException {
        assertBad(file(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", new byte[8]),
                "tensor 'w'", "\"shape\" is [-2]", "element 0 (-2)", "non-negative integer");
        assertBad(file(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", new byte[8]),
                "tensor 'w'", "element 0 (2.5)");
        assertBad(file(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", new byte[8]),
                "tensor 'w'", "\"data_offsets\" is [0]", "an array of 2 non-negative integers");
    }

    @Test
    void duplicateNamesAndBadMetadata() throws IOException {
        String w = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        assertBad(file(dir, "{\"w\":" + w + ",\"w\":" + w + "}", new byte[1]), "Duplicate", "'w'");
        assertBad(file(dir, "{\"__metadata__\":{\"step\":3}}", new byte[0]), "\"step\"", "must be strings");
        assertBad(file(dir, "{\"__metadata__\":[1]}", new byte[0]), "__metadata__", "expected an object");
    }

    /** Any truncation or random corruption gives a CheckpointException (or a readable file), never another error. */
    @Test
    void corruptedFilesOnlyEverThrowCheckpointException() throws IOException {
        Path p = dir.resolve("fuzz.safetensors");
        Random rnd = new Random(42);
        for (int trial = 0; trial < GOLDEN.length + 1000; trial++) {
            byte[] bytes;
            if (trial < GOLDEN.length) {
                bytes = Arrays.copyOf(GOLDEN, trial);
            } else {
                bytes = GOLDEN.clone();
                for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
                    int at = rnd.nextInt(bytes.length);
                    bytes[at] = rnd.nextInt(4) == 0 ? (byte) rnd.nextInt(256) : (byte) "0123456789[]{},:-\"".charAt(
                            rnd.nextInt(18));
                }
            }
            Files.write(p, bytes);
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                for (String n : f.names()) {
                    if (f.info(n).dtype().isFloat()) {
                        assertEquals(f.info(n).numel(), f.readFloat32(n).length);
                    } else {
                        assertEquals(f.info(n).byteLength(), f.rawBytes(n).remaining());
                    }
                }
            } catch (CheckpointException expected) {
                assertTrue(expected.getMessage().contains(p.toString()), expected.getMessage());
            }
        }
    }

    /** A sparse file of a little over 2 GiB: tensors past the 2 GiB mark read fine; a 2 GiB tensor is refused. */
    @Test
    void filesLargerThan2GiBAreMappedPerTensor() throws IOException {
        long big = 1L << 31;
        String header = "{\"big\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0," + big + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + big + "," + (big + 8) + "]}}";
        Path p = file(dir, header, new byte[0]);
        long dataStart = Files.size(p);
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(dataStart + big + 8); // sparse: the 2 GiB hole takes no disk space
            raf.seek(dataStart + big);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.25f).putFloat(-7f).array());
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {1.25f, -7f}, f.readFloat32("tail"));
            CheckpointException e = assertThrows(CheckpointException.class, () -> f.rawBytes("big"));
            assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("2147483648 bytes")
                    && e.getMessage().contains("2 GiB"), e.getMessage());
        }
    }
}
