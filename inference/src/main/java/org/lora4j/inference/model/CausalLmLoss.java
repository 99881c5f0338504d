package org.lora4j.inference.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The decoder as a training graph: forward to the next-token loss, then backward through every layer in exact
 * reverse order. Frozen weights get no gradient; LoRA gradients are added into the adapter's buffers, and in
 * full-parameter training every base weight's gradient into its buffer from the {@link ForwardContext}.
 * <pre>
 *   forward:   x = embed(ids);  x = layer_i(x) for i = 0..L−1;  z = lm_head(norm(x));  L = CE(z, shift(labels))
 *   backward:  dz = CE'(z);  dx = norm'(lm_head'(dz));  dx = layer_i'(dx) for i = L−1..0;  dE[ids] += dx
 * </pre>
 */
public final class CausalLmLoss {
    private CausalLmLoss() {
    }

    public record Cache(int batch, int t, int[][] inputIds, List<DecoderLayer.Cache> layers, RmsNorm.Cache finalNorm,
                        Linear.Cache head, INDArray logits, int[] targets) {
    }

    /** The summed loss of the micro-batch, its scored-token count and what backward needs. */
    public record Out(CrossEntropy.Sum loss, Cache cache) {
    }

    public static Out forward(Decoder d, TrainingBatch b, ForwardContext ctx) {
        ModelConfig c = d.config();
        int batch = b.batchSize();
        int t = b.length();
        int[] targets = b.shiftedTargets();
        CrossEntropy.validate(targets, c.vocabSize());
        INDArray x = d.embed(Decoder.flatten(b.inputIds(), c.vocabSize()));               // [B·T, H]
        RotaryEmbedding.Table rope = d.rope().table(Decoder.flattenPositions(b.positionIds(), t),
                d.weights().dataType());
        Map<Integer, INDArray> masks = new HashMap<>();
        List<DecoderLayer.Cache> caches = new ArrayList<>();
        for (LayerWeights layer : d.weights().layers()) {
            INDArray m = masks.computeIfAbsent(c.slidingWindowForLayer(layer.index()),
                    w -> b.mask().build(batch, 0, t, t, w, d.weights().dataType()));     // [B, 1, 1, T, T]
            DecoderLayer.Out o = DecoderLayer.forward(c, layer, x, batch, t, rope, null, m, ctx);
            caches.add(o.cache());
            x = o.y();
        }
        RmsNorm.Out norm = RmsNorm.forwardWithCache(x, d.weights().norm(), c.rmsNormEps());
        Linear.Out head = d.lmHead().forward(norm.y(), ctx);                               // [B·T, V]
        CrossEntropy.Sum loss = CrossEntropy.sum(head.y(), targets);
        return new Out(loss, new Cache(batch, t, b.inputIds(), caches, norm.cache(), head.cache(), head.y(), targets));
    }

    /** Backward of {@code loss / count}: adds every trainable gradient (embedding rows by scatter-add). */
    public static void backward(Decoder d, Cache cache, double count, ForwardContext ctx) {
        ModelConfig c = d.config();
        INDArray dLogits = CrossEntropy.backward(cache.logits(), cache.targets(), count);  // [B·T, V]
        INDArray dx = d.lmHead().backward(dLogits, cache.head(), ctx);                     // [B·T, H]
        dx = RmsNorm.backward(dx, d.weights().norm(), cache.finalNorm(), ctx.gradOf("model.norm.weight"));
        List<LayerWeights> layers = d.weights().layers();
        for (int i = layers.size() - 1; i >= 0; i--) {
            dx = DecoderLayer.backward(c, layers.get(i), dx, cache.batch(), cache.t(), cache.layers().get(i), ctx);
        }
        INDArray dEmbed = ctx.gradOf("model.embed_tokens.weight");
        if (dEmbed != null) {                                                              // dE[id] += dx row
            double[][] rows = dx.toDoubleMatrix();
            int[] ids = Decoder.flatten(cache.inputIds(), c.vocabSize());
            for (int n = 0; n < ids.length; n++) {
                dEmbed.getRow(ids[n]).addi(org.nd4j.linalg.factory.Nd4j.createFromArray(rows[n]).castTo(dEmbed.dataType()));
            }
        }
    }
}
