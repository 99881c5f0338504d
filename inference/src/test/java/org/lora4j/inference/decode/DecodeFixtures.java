package org.lora4j.inference.decode;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.LoraInit;
import org.lora4j.adapters.lora.LoraWeights;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.config.RopeScaling;
import org.lora4j.inference.model.AttentionMask;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.KvCache;
import org.lora4j.inference.model.LayerWeights;
import org.lora4j.inference.model.Linear;
import org.lora4j.inference.model.ModelWeights;
import org.lora4j.inference.model.WeightLoader;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Tiny models, random adapters and a Generator-like driver that runs the ND4J path and the fast step side by side. */
final class DecodeFixtures {
    /**
     * The golden models (Llama GQA with llama3 RoPE, Qwen2 with q/k/v biases and tied embeddings, Mistral with a
     * 4-token sliding window; head_dim 8–16, hidden 32–48: every kernel tail) and {@code vector_llama}, a Llama whose
     * sizes are multiples of the vector length (head_dim 32, hidden 128, ffn 352).
     */
    static final List<String> MODELS = List.of("llama_gqa_llama3rope", "qwen2_tied_bias", "mistral_window",
            "vector_llama");

    private DecodeFixtures() {
    }

    static Path modelDir(String name, Path tmp) throws URISyntaxException {
        if (name.equals("vector_llama")) {
            ModelConfig c = new ModelConfig(Architecture.LLAMA, 320, 128, 352, 2, 4, 2, 32, 1e-5, 10000.0,
                    new RopeScaling.None(), 256, false, false, false, 0, 0, 1, new int[] {2}, "float32");
            Path dir = tmp.resolve(name);
            TinyModelGenerator.writeModel(dir, c, 5, DType.F32);
            return dir;
        }
        return Path.of(DecodeFixtures.class.getResource("/golden/" + name + "/config.json").toURI()).getParent();
    }

    static Decoder load(String name, Path tmp, DataType dtype) throws URISyntaxException {
        return new Decoder(WeightLoader.load(modelDir(name, tmp), dtype));
    }

    /** The same model with every tensor cast to {@code dtype} (e.g. BF16-stored weights, computed in FP32). */
    static Decoder cast(Decoder d, DataType dtype) {
        ModelWeights w = d.weights();
        List<LayerWeights> layers = new ArrayList<>();
        for (LayerWeights l : w.layers()) {
            layers.add(new LayerWeights(l.index(), l.inputLayernorm().castTo(dtype), cast(l.qProj(), dtype),
                    cast(l.kProj(), dtype), cast(l.vProj(), dtype), cast(l.oProj(), dtype),
                    l.postAttentionLayernorm().castTo(dtype), cast(l.gateProj(), dtype), cast(l.upProj(), dtype),
                    cast(l.downProj(), dtype)));
        }
        INDArray embed = w.embedTokens().castTo(dtype);
        INDArray head = w.lmHead() == w.embedTokens() ? embed : w.lmHead().castTo(dtype);
        return new Decoder(new ModelWeights(w.config(), dtype, embed, layers, w.norm().castTo(dtype), head));
    }

    private static Linear cast(Linear l, DataType dtype) {
        return new Linear(l.name(), l.weight().castTo(dtype), l.bias() == null ? null : l.bias().castTo(dtype));
    }

    /** An unmerged adapter with random, non-zero A and B (r 4, alpha 8) on every linear layer and lm_head. */
    static ForwardContext randomAdapter(Decoder d, long seed) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (LayerWeights l : d.weights().layers()) {
            for (Linear lin : l.linears()) {
                shapes.put(lin.name(), new int[] {lin.outFeatures(), lin.inFeatures()});
            }
        }
        LoraConfig cfg = LoraConfig.of(4, 8, new TargetModules.AllLinear()).withInit(LoraInit.RANDOM);
        LoraAdapter adapter = LoraAdapter.init(cfg, shapes, seed, d.weights().dataType());
        Linear head = d.lmHead();
        LoraWeights headLora = LoraWeights.init(head.name(), head.inFeatures(), head.outFeatures(), cfg, seed,
                d.weights().dataType());
        return ForwardContext.withAdapter(m -> m.equals(head.name()) ? headLora : adapter.get(m));
    }

    static int[] randomIds(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(vocab);
        }
        return ids;
    }

    /** Prompts of different lengths (left-padded in a batch), one per row. */
    static List<int[]> prompts(int rows, int vocab) {
        int[] lengths = {5, 9, 2, 7};
        List<int[]> out = new ArrayList<>();
        for (int b = 0; b < rows; b++) {
            out.add(randomIds(lengths[b % lengths.length], vocab, 100 + b));
        }
        return out;
    }

    /**
     * Prefills two caches with ND4J (as Generator does: left padding, positions from 0 at each row's first token),
     * then feeds the same random tokens through the ND4J path and the fast step for {@code steps} steps.
     *
     * @return the largest |logit difference| over every step and row
     */
    static double maxStepDifference(Decoder d, ForwardContext ctx, List<int[]> prompts, int steps, DecodeStep fast) {
        int batch = prompts.size();
        int promptLen = prompts.stream().mapToInt(p -> p.length).max().orElseThrow();
        int capacity = promptLen + steps;
        int[][] ids = new int[batch][promptLen];
        int[][] pos = new int[batch][promptLen];
        boolean[][] valid = new boolean[batch][capacity];
        int[] nextPos = new int[batch];
        for (int b = 0; b < batch; b++) {
            int[] p = prompts.get(b);
            int pad = promptLen - p.length;
            for (int i = 0; i < p.length; i++) {
                ids[b][pad + i] = p[i];
                pos[b][pad + i] = i;
                valid[b][pad + i] = true;
            }
            nextPos[b] = p.length;
        }
        AttentionMask mask = new AttentionMask(valid, null);
        DataType dt = d.weights().dataType();
        KvCache ref = new KvCache(d.config(), batch, capacity, dt);
        KvCache got = new KvCache(d.config(), batch, capacity, dt);
        d.hidden(ids, pos, mask, ref, ctx);
        d.hidden(ids, pos, mask, got, ctx);
        Random r = new Random(7);
        double max = 0;
        for (int s = 0; s < steps; s++) {
            int[][] next = new int[batch][1];
            int[][] nextPositions = new int[batch][1];
            for (int b = 0; b < batch; b++) {
                next[b][0] = r.nextInt(d.config().vocabSize());
                nextPositions[b][0] = nextPos[b]++;
                valid[b][ref.length()] = true;
            }
            float[][] want = d.lmHead().forward(d.hidden(next, nextPositions, mask, ref, ctx), ctx).y()
                    .castTo(DataType.FLOAT).toFloatMatrix();
            float[][] have = fast.next(next, nextPositions, mask, got);
            max = Math.max(max, maxAbsDiff(want, have));
        }
        if (ref.length() != got.length()) {
            throw new AssertionError("caches advanced differently: " + ref.length() + " vs " + got.length());
        }
        return max;
    }

    static double maxAbsDiff(float[][] a, float[][] b) {
        if (a.length != b.length) {
            throw new AssertionError(a.length + " rows vs " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i].length != b[i].length) {
                throw new AssertionError("row " + i + ": " + a[i].length + " vs " + b[i].length);
            }
            for (int j = 0; j < a[i].length; j++) {
                m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return m;
    }
}
