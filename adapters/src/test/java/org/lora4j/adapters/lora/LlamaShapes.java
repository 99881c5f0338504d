package org.lora4j.adapters.lora;

import java.util.LinkedHashMap;
import java.util.Map;

/** The linear layers of a tiny Llama-style decoder (HF names), module -> {out, in}, in model order. */
final class LlamaShapes {

    private LlamaShapes() {
    }

    /** hidden h, grouped-query k/v of width kv, MLP width f, vocab v. */
    static Map<String, int[]> of(int layers, int h, int kv, int f, int v) {
        Map<String, int[]> m = new LinkedHashMap<>();
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "self_attn.q_proj", new int[] {h, h});
            m.put(p + "self_attn.k_proj", new int[] {kv, h});
            m.put(p + "self_attn.v_proj", new int[] {kv, h});
            m.put(p + "self_attn.o_proj", new int[] {h, h});
            m.put(p + "mlp.gate_proj", new int[] {f, h});
            m.put(p + "mlp.up_proj", new int[] {f, h});
            m.put(p + "mlp.down_proj", new int[] {h, f});
        }
        m.put("lm_head", new int[] {v, h});
        return m;
    }
}
