package org.lora4j.inference.model;

import java.util.List;
import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The immutable frozen weights of a decoder. With {@code tie_word_embeddings}, {@code lmHead} is the same
 * array as {@code embedTokens}.
 */
public record ModelWeights(
        ModelConfig config,
        DataType dataType,
        INDArray embedTokens,   // [V, H]   model.embed_tokens.weight
        List<LayerWeights> layers,
        INDArray norm,          // [H]      model.norm.weight
        INDArray lmHead) {      // [V, H]   lm_head.weight (or embed_tokens when tied)

    public ModelWeights {
        layers = List.copyOf(layers);
    }

    /**
     * The type activations are computed in: DOUBLE for DOUBLE weights (finite-difference tests), else FLOAT — BF16
     * weights (a storage option that halves the bytes decoding reads) are widened as they are used.
     */
    public DataType computeType() {
        return dataType == DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT;
    }

    /** Number of frozen parameters (tied embeddings counted once). */
    public long parameterCount() {
        long n = embedTokens.length() + norm.length();
        if (lmHead != embedTokens) {
            n += lmHead.length();
        }
        for (LayerWeights l : layers) {
            n += l.inputLayernorm().length() + l.postAttentionLayernorm().length();
            for (Linear lin : l.linears()) {
                n += lin.weight().length() + (lin.bias() == null ? 0 : lin.bias().length());
            }
        }
        return n;
    }
}
