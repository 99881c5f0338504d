package org.lora4j.adapters.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and validates the header of a safetensors file (https://github.com/huggingface/safetensors, "format"):
 * an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
 * {@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ..., "__metadata__": {str: str}}}.
 * Everything is checked before anything is allocated or mapped from the header's numbers, because a header is
 * untrusted input: a sane length, a JSON object, known dtypes, non-negative integer shapes, byte ranges that match
 * the shape, lie inside the data section and do not overlap.
 */
record SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata, long dataStart) {

    /** Same cap as the Rust crate (MAX_HEADER_SIZE): a larger header is a corrupt file, not a big model. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final String CORRUPT = "the file may be truncated, corrupted or not a safetensors file;"
            + " re-download or re-export it";

    static SafetensorsHeader read(Path file, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        if (fileSize < 8) {
            throw fail(file, "is " + fileSize + " bytes, too short for the 8-byte header length that starts every"
                    + " safetensors file; " + CORRUPT);
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n < 2 || n > MAX_HEADER_BYTES || n > fileSize - 8) {
            String found = Long.toUnsignedString(n);
            String expected = n > MAX_HEADER_BYTES || n < 0 ? "at most " + MAX_HEADER_BYTES
                    : n < 2 ? "at least 2 (the JSON \"{}\")"
                    : "at most " + (fileSize - 8) + " (the file is " + fileSize + " bytes)";
            throw fail(file, "header length (first 8 bytes, little-endian u64) is " + found + "; expected " + expected
                    + "; " + CORRUPT);
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
        readFully(file, ch, headerBuf, 8);
        JsonNode root;
        try {
            root = JSON.readTree(headerBuf.array());
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file + ": the " + n + "-byte header is not valid UTF-8 JSON ("
                    + e.getOriginalMessage() + "); " + CORRUPT, e);
        }
        if (root == null || !root.isObject()) {
            throw fail(file, "header is JSON but not an object (found " + (root == null ? "nothing" : root.getNodeType())
                    + "); expected {\"tensor name\": {\"dtype\": ..., \"shape\": ..., \"data_offsets\": ...}}; " + CORRUPT);
        }
        long dataStart = 8 + n;
        long dataSize = fileSize - dataStart;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(file, e.getValue());
            } else {
                tensors.put(e.getKey(), parseTensor(file, e.getKey(), e.getValue(), dataSize));
            }
        }
        checkNoOverlap(file, tensors);
        return new SafetensorsHeader(Collections.unmodifiableMap(tensors), metadata, dataStart);
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) {
        if (!node.isObject()) {
            throw fail(file, "\"" + METADATA_KEY + "\" is " + node.getNodeType() + "; expected an object of strings");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw fail(file, "\"" + METADATA_KEY + "\" entry \"" + e.getKey() + "\" is " + e.getValue().getNodeType()
                        + " (" + e.getValue() + "); safetensors metadata values must be strings; re-export the file");
            }
            metadata.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static TensorInfo parseTensor(Path file, String name, JsonNode node, long dataSize) {
        String where = "tensor '" + name + "' in " + file;
        if (!node.isObject()) {
            throw new CheckpointException(where + ": header entry is " + node.getNodeType()
                    + "; expected {\"dtype\": ..., \"shape\": ..., \"data_offsets\": ...}; " + CORRUPT);
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new CheckpointException(where + ": \"dtype\" is " + describe(dtypeNode)
                    + "; expected a string such as \"BF16\"; " + CORRUPT);
        }
        DType dtype = DType.parse(dtypeNode.textValue(), where);
        long[] shape = longArray(where, node.get("shape"), "shape", -1);
        long[] offsets = longArray(where, node.get("data_offsets"), "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end + "] end before they begin; "
                    + CORRUPT);
        }
        if (end > dataSize) {
            throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end + "] run past the end of the"
                    + " data section (" + dataSize + " bytes); " + CORRUPT);
        }
        long expectedBytes;
        try {
            expectedBytes = Math.multiplyExact(new TensorInfo(name, dtype, shape, 0, 0).numel(), dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new CheckpointException(where + ": shape " + Arrays.toString(shape)
                    + " has more bytes than a long can count; " + CORRUPT);
        }
        if (expectedBytes != end - begin) {
            throw new CheckpointException(where + ": shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + expectedBytes + " bytes but data_offsets [" + begin + ", " + end + "] hold "
                    + (end - begin) + "; " + CORRUPT);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers; {@code length} -1 accepts any length. */
    private static long[] longArray(String where, JsonNode node, String field, int length) {
        String expected = length < 0 ? "an array of non-negative integers"
                : "an array of " + length + " non-negative integers";
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new CheckpointException(where + ": \"" + field + "\" is " + describe(node) + "; expected " + expected
                    + "; " + CORRUPT);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new CheckpointException(where + ": \"" + field + "\" is " + node + " but element " + i + " ("
                        + v + ") is not a non-negative integer; expected " + expected + "; " + CORRUPT);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private static void checkNoOverlap(Path file, Map<String, TensorInfo> tensors) {
        List<TensorInfo> byBegin = new ArrayList<>(tensors.values());
        byBegin.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo prev = null;
        for (TensorInfo t : byBegin) {
            if (t.byteLength() == 0) {
                continue; // an empty tensor owns no bytes, so it cannot overlap
            }
            if (prev != null && t.begin() < prev.end()) {
                throw fail(file, "tensors '" + prev.name() + "' (bytes [" + prev.begin() + ", " + prev.end()
                        + ")) and '" + t.name() + "' (bytes [" + t.begin() + ", " + t.end() + ")) overlap; each"
                        + " tensor must own its own byte range; " + CORRUPT);
            }
            prev = t;
        }
    }

    private static String describe(JsonNode node) {
        return node == null ? "missing" : node.toString();
    }

    private static CheckpointException fail(Path file, String message) {
        return new CheckpointException(file + ": " + message);
    }

    static void readFully(Path file, FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                throw new EOFException(file + " ended at byte " + (position + buf.position())
                        + " while reading; was it truncated while being read?");
            }
        }
    }
}
