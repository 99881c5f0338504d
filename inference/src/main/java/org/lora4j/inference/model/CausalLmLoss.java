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

    /** inputs: each layer's input x (the residual stream; the last entry is the final norm's input). */
    public record Cache(int batch, int t, int[][] inputIds, List<INDArray> inputs, List<DecoderLayer.Cache> layers,
                        RmsNorm.Cache finalNorm, INDArray normed, Linear.Cache head, INDArray logits,
                        CrossEntropy.Sum loss, int[] targets) {
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
        INDArray x = d.embed(Decoder.flatten(b.inputIds(), c.vocabSize()), ctx.arena());  // [B·T, H]
        RotaryEmbedding.Table rope = d.rope().table(Decoder.flattenPositions(b.positionIds(), t),
                d.weights().computeType());
        Map<Integer, INDArray> masks = new HashMap<>();
        List<DecoderLayer.Cache> caches = new ArrayList<>();
        List<INDArray> inputs = new ArrayList<>();
        for (LayerWeights layer : d.weights().layers()) {
            INDArray m = masks.computeIfAbsent(c.slidingWindowForLayer(layer.index()),
                    w -> b.mask().build(batch, 0, t, t, w, d.weights().computeType()));     // [B, 1, 1, T, T]
            inputs.add(x);
            DecoderLayer.Out o = DecoderLayer.forward(c, layer, x, batch, t, rope, null, m, ctx);
            caches.add(o.cache());
            x = o.y();
        }
        inputs.add(x);
        RmsNorm.Out norm = RmsNorm.forwardWithCache(x, d.weights().norm(), c.rmsNormEps(), ctx.arena());
        Linear.Out head = d.lmHead().forward(norm.y(), ctx);                               // [B·T, V]
        CrossEntropy.Sum loss = CrossEntropy.sum(head.y(), targets);
        return new Out(loss, new Cache(batch, t, b.inputIds(), inputs, caches, norm.cache(), norm.y(), head.cache(),
                head.y(), loss, targets));
    }

    /** Backward of {@code loss / count}: adds every trainable gradient (embedding rows by scatter-add). */
    public static void backward(Decoder d, Cache cache, double count, ForwardContext ctx) {
        ModelConfig c = d.config();
        Arena arena = ctx.arena();
        INDArray dLogits = cache.logits();                                                 // overwritten in place
        CrossEntropy.backwardInPlace(dLogits, cache.loss(), cache.targets(), count);       // [B·T, V]
        INDArray dNormed = d.lmHead().backward(dLogits, cache.head(), ctx);                // [B·T, H]
        arena.give(dLogits, cache.normed());
        INDArray dx = RmsNorm.backward(dNormed, d.weights().norm(), cache.finalNorm(), ctx.gradOf("model.norm.weight"),
                arena);
        arena.give(dNormed);
        List<LayerWeights> layers = d.weights().layers();
        for (int i = layers.size() - 1; i >= 0; i--) {
            arena.give(cache.inputs().get(i + 1));
            dx = DecoderLayer.backward(c, layers.get(i), dx, cache.batch(), cache.t(), cache.layers().get(i), ctx);
        }
        arena.give(cache.inputs().get(0));
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
