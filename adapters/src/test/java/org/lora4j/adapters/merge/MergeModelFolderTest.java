package org.lora4j.adapters.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.LoraWeights;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.adapters.safetensors.Checkpoint;
import org.lora4j.adapters.safetensors.CheckpointException;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.adapters.safetensors.Float16;
import org.lora4j.adapters.safetensors.SafetensorsWriter;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Merging into a hand-built 2-layer Llama folder (BF16, hidden 8, vocab 16). Values are small dyadic fractions, so
 * W + s·B·A is exact in FP32 whatever the summation order, and its BF16 rounding is known exactly.
 */
class MergeModelFolderTest {

    private static final int H = 8;
    private static final int V = 16;
    private static final int R = 4;
    private static final String CONFIG = "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 8}\n";

    @TempDir
    Path tmp;

    /** name -> values (exact in BF16: multiples of 1/64 below 4) and shape, in checkpoint order. */
    private final Map<String, float[]> values = new LinkedHashMap<>();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    private void tensor(String name, Random rnd, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (rnd.nextInt(511) - 255) / 64f;
        }
        values.put(name, v);
        shapes.put(name, shape);
    }

    private Path baseModel(DType dtype) throws IOException {
        Random rnd = new Random(1);
        tensor("model.embed_tokens.weight", rnd, V, H);
        for (int i = 0; i < 2; i++) {
            String p = "model.layers." + i + ".";
            tensor(p + "input_layernorm.weight", rnd, H);
            for (String m : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                tensor(p + "self_attn." + m + ".weight", rnd, m.equals("k_proj") || m.equals("v_proj") ? 4 : H, H);
            }
        }
        tensor("model.norm.weight", rnd, H);
        tensor("lm_head.weight", rnd, V, H);
        Path base = tmp.resolve("base");
        List<SafetensorsWriter.Tensor> ts = new ArrayList<>();
        values.forEach((k, v) -> ts.add(new SafetensorsWriter.Tensor(k, dtype, shapes.get(k), () -> v)));
        SafetensorsWriter.write(base.resolve("model.safetensors"), ts, Map.of("format", "pt"));
        Files.writeString(base.resolve("config.json"), CONFIG);
        Files.writeString(base.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\"}}");
        Files.writeString(base.resolve("generation_config.json"), "{\"do_sample\": false}");
        Files.writeString(base.resolve("pytorch_model.bin"), "stale pickle weights: must not be copied");
        Files.createDirectories(base.resolve("original"));
        Files.writeString(base.resolve("original/consolidated.00.pth"), "must not be copied");
        return base;
    }

    /** A and B are multiples of 1/32 in [-1/4, 1/4]; s = 8/4 = 2. */
    private static LoraWeights lora(String module, int in, int out, Random rnd) {
        float[] a = new float[R * in];
        float[] b = new float[out * R];
        for (int i = 0; i < a.length; i++) {
            a[i] = (rnd.nextInt(17) - 8) / 32f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (rnd.nextInt(17) - 8) / 32f;
        }
        return new LoraWeights(module, Nd4j.create(a, new long[] {R, in}, 'c'),
                Nd4j.create(b, new long[] {out, R}, 'c'), 2.0);
    }

    private static LoraAdapter adapter() {
        Random rnd = new Random(2);
        List<LoraWeights> ws = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ws.add(lora("model.layers." + i + ".self_attn.q_proj", H, H, rnd));
            ws.add(lora("model.layers." + i + ".self_attn.v_proj", H, 4, rnd));
        }
        return new LoraAdapter(LoraConfig.of(R, 8, TargetModules.Names.of("q_proj", "v_proj")), ws);
    }

    /** W + s·B·A, exact (dyadic), rounded to BF16 bits. */
    private short[] expectedBf16(String name, LoraWeights l) {
        float[] w = values.get(name);
        short[] e = new short[w.length];
        int in = l.inFeatures();
        for (int o = 0; o < l.outFeatures(); o++) {
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int k = 0; k < R; k++) {
                    s += l.b().getDouble(o, k) * l.a().getDouble(k, i);
                }
                e[o * in + i] = Float16.floatToBf16((float) (w[o * in + i] + l.scale() * s));
            }
        }
        return e;
    }

    private static short[] shorts(ByteBuffer b) {
        short[] s = new short[b.remaining() / 2];
        for (int i = 0; i < s.length; i++) {
            s[i] = b.getShort(2 * i);
        }
        return s;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void mergesAdaptedWeightsRoundedToBf16AndCopiesTheRest() throws IOException {
        Path base = baseModel(DType.BF16);
        LoraAdapter adapter = adapter();
        Path out = tmp.resolve("merged");
        List<int[]> calls = new ArrayList<>();
        LoraMerge.mergeModelFolder(base, adapter, out, 1L << 30, false, (i, n) -> calls.add(new int[] {i, n}));

        assertEquals(List.of("config.json", "generation_config.json", "model.safetensors", "tokenizer.json"),
                listing(out));
        for (String f : List.of("config.json", "generation_config.json", "tokenizer.json")) {
            assertArrayEquals(Files.readAllBytes(base.resolve(f)), Files.readAllBytes(out.resolve(f)), f);
        }
        assertEquals(values.size(), calls.size());
        assertArrayEquals(new int[] {values.size(), values.size()}, calls.get(calls.size() - 1));

        int rounded = 0;
        try (Checkpoint merged = Checkpoint.open(out); Checkpoint original = Checkpoint.open(base)) {
            assertEquals(new ArrayList<>(values.keySet()).stream().sorted().collect(Collectors.toList()),
                    merged.names().stream().sorted().collect(Collectors.toList()));
            for (String name : values.keySet()) {
                assertEquals(DType.BF16, merged.info(name).dtype(), name);
                assertArrayEquals(original.info(name).shape(), merged.info(name).shape(), name);
                LoraWeights l = adapter.get(name.replace(".weight", ""));
                if (l == null) {
                    assertArrayEquals(bytes(original.rawBytes(name)), bytes(merged.rawBytes(name)), name);
                    continue;
                }
                short[] want = expectedBf16(name, l);
                short[] got = shorts(merged.rawBytes(name));
                assertArrayEquals(want, got, name);
                assertFalse(java.util.Arrays.equals(shorts(original.rawBytes(name)), got), name + " unchanged");
                float[] exactFp32 = new float[want.length];
                for (int i = 0; i < want.length; i++) {
                    double s = 0;
                    for (int k = 0; k < R; k++) {
                        s += l.b().getDouble(i / l.inFeatures(), k) * l.a().getDouble(k, i % l.inFeatures());
                    }
                    exactFp32[i] = (float) (values.get(name)[i] + 2.0 * s);
                    rounded += Float16.bf16ToFloat(got[i]) != exactFp32[i] ? 1 : 0;
                }
            }
        }
        assertTrue(rounded > 10, "the test values must exercise BF16 rounding; only " + rounded + " were rounded");
    }

    @Test
    void smallShardLimitWritesShardsAndAnIndex() throws IOException {
        Path base = baseModel(DType.BF16);
        LoraAdapter adapter = adapter();
        LoraMerge.mergeModelFolder(base, adapter, tmp.resolve("single"), 1L << 30, false, null);
        Path out = tmp.resolve("sharded");
        LoraMerge.mergeModelFolder(base, adapter, out, 300, false, null);
        List<String> files = listing(out);
        assertTrue(files.contains("model.safetensors.index.json"), files.toString());
        assertFalse(files.contains("model.safetensors"), files.toString());
        long shards = files.stream().filter(f -> f.matches("model-\\d{5}-of-\\d{5}\\.safetensors")).count();
        assertTrue(shards >= 3, files.toString());
        try (Checkpoint sharded = Checkpoint.open(out); Checkpoint single = Checkpoint.open(tmp.resolve("single"))) {
            assertEquals(shards, sharded.files().size());
            for (String name : values.keySet()) {
                assertArrayEquals(bytes(single.rawBytes(name)), bytes(sharded.rawBytes(name)), name);
            }
        }
    }

    private void assertNothingWritten(Path out) throws IOException {
        assertFalse(Files.exists(out), out + " must not exist");
        assertEquals(List.of("base"), listing(tmp), "no temporary folder may be left behind");
    }

    @Test
    void nanInBAbortsBeforeAnythingIsWritten() throws IOException {
        Path base = baseModel(DType.BF16);
        LoraAdapter adapter = adapter();
        adapter.get("model.layers.1.self_attn.v_proj").b().putScalar(new long[] {2, 1}, Float.NaN);
        Path out = tmp.resolve("merged");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> LoraMerge.mergeModelFolder(base, adapter, out, 1L << 30, false, null));
        assertTrue(e.getMessage().contains("model.layers.1.self_attn.v_proj.lora_B holds NaN at [2, 1]"),
                e.getMessage());
        assertNothingWritten(out);
    }

    @Test
    void overflowInF16AbortsAndLeavesNoFolder() throws IOException {
        Path base = baseModel(DType.F16);
        LoraAdapter adapter = adapter();
        adapter.get("model.layers.1.self_attn.v_proj").b().muli(1e6f); // finite in FP32, beyond F16's 65504
        Path out = tmp.resolve("merged");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> LoraMerge.mergeModelFolder(base, adapter, out, 1L << 30, false, null));
        assertTrue(e.getMessage().contains("merged tensor 'model.layers.1.self_attn.v_proj.weight'"), e.getMessage());
        assertTrue(e.getMessage().contains("overflow F16"), e.getMessage());
        assertTrue(e.getMessage().contains("nothing was written to " + out), e.getMessage());
        assertNothingWritten(out);
    }

    @Test
    void adapterForAnotherBaseIsRefused() throws IOException {
        Path base = baseModel(DType.BF16);
        Random rnd = new Random(3);
        LoraAdapter wrong = new LoraAdapter(LoraConfig.of(R, 8, TargetModules.Names.of("q_proj")),
                List.of(lora("model.layers.0.self_attn.q_proj", 2 * H, H, rnd)));
        Path out = tmp.resolve("merged");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> LoraMerge.mergeModelFolder(base, wrong, out, 1L << 30, false, null));
        assertTrue(e.getMessage().contains("[r=4, in=16, out=8] but the base model's is [in=8, out=8]"),
                e.getMessage());
        assertNothingWritten(out);
    }

    @Test
    void existingOutputNeedsOverwrite() throws IOException {
        Path base = baseModel(DType.BF16);
        Path out = tmp.resolve("merged");
        Files.createDirectories(out);
        Files.writeString(out.resolve("old.txt"), "previous merge", StandardCharsets.UTF_8);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> LoraMerge.mergeModelFolder(base, adapter(), out, 1L << 30, false, null));
        assertTrue(e.getMessage().contains("exists and is not empty"), e.getMessage());
        assertEquals(List.of("old.txt"), listing(out));

        LoraMerge.mergeModelFolder(base, adapter(), out, 1L << 30, true, null);
        assertEquals(List.of("config.json", "generation_config.json", "model.safetensors", "tokenizer.json"),
                listing(out));
        assertEquals(List.of("base", "merged"), listing(tmp));

        assertThrows(CheckpointException.class,
                () -> LoraMerge.mergeModelFolder(base, adapter(), base, 1L << 30, true, null));
        assertTrue(Files.exists(base.resolve("model.safetensors")));
    }
}
