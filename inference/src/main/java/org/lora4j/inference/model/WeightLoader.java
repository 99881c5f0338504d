package org.lora4j.inference.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.lora4j.adapters.safetensors.Checkpoint;
import org.lora4j.adapters.safetensors.TensorInfo;
import org.lora4j.inference.config.ConfigException;
import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Loads a HF checkpoint's tensors into {@link ModelWeights}, checking every tensor's presence and shape
 * against config.json before reading any data. Stored F32/F16/BF16 weights are computed in {@code dtype}.
 */
public final class WeightLoader {
    private WeightLoader() {
    }

    /** Every tensor name the config requires, with its expected shape, in checkpoint order. */
    public static Map<String, long[]> expectedShapes(ModelConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        long h = c.hiddenSize();
        m.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new long[] {h});
            m.put(p + "self_attn.q_proj.weight", new long[] {c.qDim(), h});
            m.put(p + "self_attn.k_proj.weight", new long[] {c.kvDim(), h});
            m.put(p + "self_attn.v_proj.weight", new long[] {c.kvDim(), h});
            m.put(p + "self_attn.o_proj.weight", new long[] {h, c.qDim()});
            if (c.qkvBias()) {
                m.put(p + "self_attn.q_proj.bias", new long[] {c.qDim()});
                m.put(p + "self_attn.k_proj.bias", new long[] {c.kvDim()});
                m.put(p + "self_attn.v_proj.bias", new long[] {c.kvDim()});
            }
            if (c.oBias()) {
                m.put(p + "self_attn.o_proj.bias", new long[] {h});
            }
            m.put(p + "post_attention_layernorm.weight", new long[] {h});
            m.put(p + "mlp.gate_proj.weight", new long[] {c.intermediateSize(), h});
            m.put(p + "mlp.up_proj.weight", new long[] {c.intermediateSize(), h});
            m.put(p + "mlp.down_proj.weight", new long[] {h, c.intermediateSize()});
        }
        m.put("model.norm.weight", new long[] {h});
        if (!c.tieWordEmbeddings()) {
            m.put("lm_head.weight", new long[] {c.vocabSize(), h});
        }
        return m;
    }

    /** Opens {@code modelDir} (config.json + safetensors) and loads its weights in {@code dtype}. */
    public static ModelWeights load(Path modelDir, DataType dtype) {
        ModelConfig config = ModelConfig.load(modelDir);
        try (Checkpoint ckpt = Checkpoint.open(modelDir)) {
            ModelWeights w = load(ckpt, config, dtype);
            NativeMemory.collectAfterLoading();
            return w;
        }
    }

    public static ModelWeights load(Checkpoint ckpt, ModelConfig c, DataType dtype) {
        validate(ckpt, c);
        Loader l = new Loader(ckpt, dtype);
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new LayerWeights(i,
                    l.get(p + "input_layernorm.weight"),
                    l.linear(p + "self_attn.q_proj", c.qkvBias()),
                    l.linear(p + "self_attn.k_proj", c.qkvBias()),
                    l.linear(p + "self_attn.v_proj", c.qkvBias()),
                    l.linear(p + "self_attn.o_proj", c.oBias()),
                    l.get(p + "post_attention_layernorm.weight"),
                    l.linear(p + "mlp.gate_proj", false),
                    l.linear(p + "mlp.up_proj", false),
                    l.linear(p + "mlp.down_proj", false)));
        }
        INDArray embed = l.get("model.embed_tokens.weight");
        INDArray lmHead = c.tieWordEmbeddings() ? embed : l.get("lm_head.weight");
        return new ModelWeights(c, dtype, embed, layers, l.get("model.norm.weight"), lmHead);
    }

    /** Checks presence and shape of every required tensor; one error lists every problem found. */
    public static void validate(Checkpoint ckpt, ModelConfig c) {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expectedShapes(c).entrySet()) {
            String name = e.getKey();
            if (!ckpt.contains(name)) {
                problems.add(name + " is missing");
                continue;
            }
            TensorInfo info = ckpt.info(name);
            if (!info.dtype().isFloat()) {
                problems.add(name + " has dtype " + info.dtype() + "; expected F32, F16 or BF16");
            } else if (!Arrays.equals(info.shape(), e.getValue())) {
                problems.add(name + " is " + Arrays.toString(info.shape()) + " but config.json expects "
                        + Arrays.toString(e.getValue()) + " (" + c + ")");
            }
        }
        if (!problems.isEmpty()) {
            int shown = Math.min(problems.size(), 12);
            String listed = String.join("\n  ", problems.subList(0, shown))
                    + (problems.size() > shown ? "\n  ... and " + (problems.size() - shown) + " more" : "");
            throw new ConfigException("checkpoint " + ckpt.dir() + " does not match its config.json:\n  " + listed
                    + "\nThe weights and config.json must come from the same model (re-download or re-export both).");
        }
        TreeSet<String> unused = new TreeSet<>(ckpt.names());
        unused.removeAll(expectedShapes(c).keySet());
        unused.removeIf(n -> n.endsWith("rotary_emb.inv_freq") || n.equals("lm_head.weight"));
        if (!unused.isEmpty()) {
            System.err.println("warning: " + unused.size() + " tensor(s) in " + ckpt.dir()
                    + " are not used by " + c.architecture().hfClass() + ", e.g. " + unused.first());
        }
    }

    private record Loader(Checkpoint ckpt, DataType dtype) {
        INDArray get(String name) {
            TensorInfo info = ckpt.info(name);
            INDArray a = org.nd4j.linalg.factory.Nd4j.createUninitialized(DataType.FLOAT, info.shape(), 'c');
            ckpt.readFloat32Into(name, a.data().asNio());                  // straight into native memory
            return dtype == DataType.FLOAT ? a : a.castTo(dtype);
        }

        Linear linear(String module, boolean bias) {
            return new Linear(module, get(module + ".weight"), bias ? get(module + ".bias") : null);
        }
    }
}
