package org.lora4j.adapters.lora;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lora4j.adapters.Parameter;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A whole LoRA adapter: its {@link LoraConfig} and the {@link LoraWeights} of every adapted linear layer, in model
 * order. The in-memory form of a PEFT adapter folder (huggingface/peft, {@code PeftModel}); see
 * {@code org.lora4j.adapters.peft.PeftAdapterFiles} for the files.
 */
public final class LoraAdapter {

    private final LoraConfig config;
    private final Map<String, LoraWeights> modules;

    /** @param modules one entry per adapted module, each of rank config.r(), in model order */
    public LoraAdapter(LoraConfig config, List<LoraWeights> modules) {
        if (modules.isEmpty()) {
            throw new IllegalArgumentException("a LoRA adapter needs at least one adapted module; target_modules "
                    + ModuleSelector.describe(config.targetModules()) + " gave none");
        }
        Map<String, LoraWeights> m = new LinkedHashMap<>();
        for (LoraWeights w : modules) {
            if (w.r() != config.r()) {
                throw new IllegalArgumentException(w.module() + " has rank " + w.r() + " but the config says r="
                        + config.r() + "; every module of an adapter has the config's rank (rank_pattern is not"
                        + " supported)");
            }
            if (m.put(w.module(), w) != null) {
                throw new IllegalArgumentException(w.module() + " appears twice in the adapter; expected one LoRA"
                        + " pair per module");
            }
        }
        this.config = config;
        this.modules = Collections.unmodifiableMap(m);
    }

    /**
     * A fresh adapter for a base model whose linear layers are {@code linearShapes}
     * (module -> {out, in}, in model order, lm_head included), selected with {@link ModuleSelector}.
     */
    public static LoraAdapter init(LoraConfig cfg, Map<String, int[]> linearShapes, long seed, DataType dtype) {
        List<String> selected = ModuleSelector.select(new ArrayList<>(linearShapes.keySet()), cfg);
        List<LoraWeights> ws = new ArrayList<>(selected.size());
        for (String module : selected) {
            int[] outIn = linearShapes.get(module);
            ws.add(LoraWeights.init(module, outIn[1], outIn[0], cfg, seed, dtype));
        }
        return new LoraAdapter(cfg, ws);
    }

    public LoraConfig config() {
        return config;
    }

    /** The module's LoRA pair, or null when the module is not adapted. */
    public LoraWeights get(String module) {
        return modules.get(module);
    }

    /** All adapted modules, in model order. */
    public Collection<LoraWeights> modules() {
        return modules.values();
    }

    /** Σ r·(in + out) over the adapted modules. */
    public long trainableParameterCount() {
        return modules.values().stream().mapToLong(LoraWeights::parameterCount).sum();
    }

    /**
     * The trainable tensors with their gradient buffers (allocated here, zeroed on first allocation), named by
     * their PEFT keys: per module lora_A then lora_B, modules in model order.
     */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(2 * modules.size());
        for (LoraWeights w : modules.values()) {
            w.allocateGradients();
            ps.add(new Parameter(w.keyA(), w.a(), w.gradA()));
            ps.add(new Parameter(w.keyB(), w.b(), w.gradB()));
        }
        return ps;
    }

    @Override
    public String toString() {
        return "LoraAdapter[r=" + config.r() + ", alpha=" + config.loraAlpha() + ", " + modules.size()
                + " modules, " + trainableParameterCount() + " parameters]";
    }
}
