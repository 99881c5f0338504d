package org.lora4j.inference.model;

import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One decoder layer's frozen weights, HF names: {@code model.layers.{i}.input_layernorm},
 * {@code self_attn.{q,k,v,o}_proj}, {@code post_attention_layernorm}, {@code mlp.{gate,up,down}_proj}.
 */
public record LayerWeights(
        int index,
        INDArray inputLayernorm,           // [H]
        Linear qProj,                      // [nH*hd, H]
        Linear kProj,                      // [nKV*hd, H]
        Linear vProj,                      // [nKV*hd, H]
        Linear oProj,                      // [H, nH*hd]
        INDArray postAttentionLayernorm,   // [H]
        Linear gateProj,                   // [I, H]
        Linear upProj,                     // [I, H]
        Linear downProj) {                 // [H, I]

    /** Every linear layer of this decoder layer, in HF module order. */
    public List<Linear> linears() {
        return List.of(qProj, kProj, vProj, oProj, gateProj, upProj, downProj);
    }
}
