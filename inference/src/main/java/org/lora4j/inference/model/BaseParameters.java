package org.lora4j.inference.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lora4j.adapters.Parameter;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Full-parameter training: every base weight as a {@link Parameter} with its HF name and a zeroed gradient buffer.
 * With tied embeddings, {@code lm_head.weight} resolves to the embedding's buffer, so both uses add into it.
 */
public final class BaseParameters {
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    private final boolean tied;

    public BaseParameters(ModelWeights w) {
        tied = w.lmHead() == w.embedTokens();
        tensors(w).forEach((name, value) -> byName.put(name,
                new Parameter(name, value, Nd4j.zeros(value.dataType(), value.shape()))));
    }

    /** Every base tensor by HF name, in checkpoint order; a tied lm_head is not listed (HF stores it once). */
    public static Map<String, INDArray> tensors(ModelWeights w) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", w.embedTokens());
        for (LayerWeights l : w.layers()) {
            String p = "model.layers." + l.index() + ".";
            m.put(p + "input_layernorm.weight", l.inputLayernorm());
            for (Linear lin : l.linears()) {
                m.put(lin.name() + ".weight", lin.weight());
                if (lin.bias() != null) {
                    m.put(lin.name() + ".bias", lin.bias());
                }
            }
            m.put(p + "post_attention_layernorm.weight", l.postAttentionLayernorm());
        }
        m.put("model.norm.weight", w.norm());
        if (w.lmHead() != w.embedTokens()) {
            m.put("lm_head.weight", w.lmHead());
        }
        return m;
    }

    public List<Parameter> parameters() {
        return new ArrayList<>(byName.values());
    }

    /** The gradient buffer of {@code name} ({@code lm_head.weight} is the embedding's when tied), or null. */
    public INDArray grad(String name) {
        Parameter p = byName.get(tied && name.equals("lm_head.weight") ? "model.embed_tokens.weight" : name);
        return p == null ? null : p.grad();
    }

    /** The forward context that trains every base weight. */
    public ForwardContext context() {
        return ForwardContext.fullTraining(this::grad);
    }
}
