package org.lora4j.inference.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lora4j.adapters.lora.LoraWeights;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.config.RopeScaling;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Finite-difference checks of every backward, in DOUBLE on tiny shapes, central differences, with the loss
 * {@code L = Σ y ⊙ R} for a fixed random R (blocks) or the real next-token loss (whole model). LoRA B is random
 * and non-zero so that dA is not trivially zero.
 */
class GradientCheckTest {
    private static final double H = 1e-6;
    private final Random rnd = new Random(7);

    @TempDir
    Path tmp;

    private INDArray rand(long... shape) {
        int n = 1;
        for (long s : shape) {
            n *= (int) s;
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rnd.nextGaussian();
        }
        return Nd4j.create(v, shape, DataType.DOUBLE);
    }

    /** Central-difference dL/dx for L = Σ f(x) ⊙ R, at every element of x. */
    private static INDArray numeric(Function<INDArray, INDArray> f, INDArray x, INDArray r) {
        INDArray g = Nd4j.zeros(DataType.DOUBLE, x.shape());
        INDArray flat = x.reshape(x.length());
        for (long i = 0; i < x.length(); i++) {
            double v = flat.getDouble(i);
            flat.putScalar(i, v + H);
            double up = f.apply(x).mul(r).sumNumber().doubleValue();
            flat.putScalar(i, v - H);
            double down = f.apply(x).mul(r).sumNumber().doubleValue();
            flat.putScalar(i, v);
            g.reshape(g.length()).putScalar(i, (up - down) / (2 * H));
        }
        return g;
    }

    private static void assertClose(INDArray want, INDArray got, String what) {
        double err = want.sub(got).norm2Number().doubleValue() / Math.max(1e-12, want.norm2Number().doubleValue());
        assertTrue(want.norm2Number().doubleValue() > 1e-8, what + ": gradient is zero, the check would prove nothing");
        assertTrue(err < 1e-6, what + ": relative error " + err);
    }

    @Test
    void rmsNorm() {
        INDArray x = rand(3, 6);
        INDArray w = rand(6);
        INDArray r = rand(3, 6);
        INDArray dx = RmsNorm.backward(r, w, RmsNorm.forwardWithCache(x, w, 1e-5).cache());
        assertClose(numeric(in -> RmsNorm.forward(in, w, 1e-5), x, r), dx, "rmsnorm dx");
    }

    @Test
    void rope() {
        ModelConfig c = config(Architecture.LLAMA, 0);
        RotaryEmbedding.Table table = new RotaryEmbedding(c).table(new int[] {0, 5, 9}, DataType.DOUBLE);
        INDArray x = rand(3, 2, c.headDim());
        INDArray r = rand(3, 2, c.headDim());
        assertClose(numeric(in -> RotaryEmbedding.apply(in, table), x, r), RotaryEmbedding.backward(r, table), "rope dx");
    }

    private static ModelConfig config(Architecture arch, int window) {
        return new ModelConfig(arch, 16, 8, 12, 1, 4, 2, 4, 1e-5, 10000.0, new RopeScaling.None(), 64, false,
                true, true, window, 0, -1, new int[0], "float32");
    }

    private LayerWeights layer(ModelConfig c) {
        int h = c.hiddenSize();
        String p = "model.layers.0.";
        return new LayerWeights(0, rand(h),
                new Linear(p + "self_attn.q_proj", rand(c.qDim(), h), rand(c.qDim())),
                new Linear(p + "self_attn.k_proj", rand(c.kvDim(), h), rand(c.kvDim())),
                new Linear(p + "self_attn.v_proj", rand(c.kvDim(), h), rand(c.kvDim())),
                new Linear(p + "self_attn.o_proj", rand(h, c.qDim()).muli(0.5), rand(h)),
                rand(h),
                new Linear(p + "mlp.gate_proj", rand(c.intermediateSize(), h), null),
                new Linear(p + "mlp.up_proj", rand(c.intermediateSize(), h), null),
                new Linear(p + "mlp.down_proj", rand(h, c.intermediateSize()), null));
    }

    /** Random, non-zero LoRA on every linear of the layer; gradients allocated. */
    private Map<String, LoraWeights> lora(LayerWeights w, int r) {
        Map<String, LoraWeights> m = new HashMap<>();
        for (Linear l : w.linears()) {
            LoraWeights lw = new LoraWeights(l.name(), rand(r, l.inFeatures()).muli(0.3),
                    rand(l.outFeatures(), r).muli(0.3), 2.0);
            lw.allocateGradients();
            m.put(l.name(), lw);
        }
        return m;
    }

    @Test
    void swiGluWithLoraAndDropout() {
        ModelConfig c = config(Architecture.LLAMA, 0);
        LayerWeights w = layer(c);
        Map<String, LoraWeights> lora = lora(w, 2);
        ForwardContext ctx = new ForwardContext(lora::get, new Dropout(0.3, 99));
        INDArray x = rand(5, c.hiddenSize());
        INDArray r = rand(5, c.hiddenSize());
        SwiGluMlp.Out out = SwiGluMlp.forward(w, x, ctx);
        INDArray dx = SwiGluMlp.backward(w, r, out.cache(), ctx);
        assertClose(numeric(in -> SwiGluMlp.forward(w, in, ctx).y(), x, r), dx, "swiglu dx");
        checkLoraGrads(lora, ".mlp.", () -> SwiGluMlp.forward(w, x, ctx).y().mul(r).sumNumber().doubleValue());
    }

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"LLAMA", "MISTRAL"})
    void attentionWithGqaMasksAndLora(Architecture arch) {
        ModelConfig c = config(arch, arch == Architecture.MISTRAL ? 2 : 0);
        LayerWeights w = layer(c);
        Map<String, LoraWeights> lora = lora(w, 2);
        ForwardContext ctx = new ForwardContext(lora::get, null);
        int batch = 2;
        int t = 4;
        // row 1: a left-padding slot, then two packed examples
        AttentionMask mask = new AttentionMask(new boolean[][] {{true, true, true, true}, {false, true, true, true}},
                new int[][] {{0, 0, 0, 0}, {0, 1, 1, 2}});
        RotaryEmbedding.Table rope = new RotaryEmbedding(c).table(new int[] {0, 1, 2, 3, 0, 0, 1, 0}, DataType.DOUBLE);
        INDArray m = mask.build(batch, 0, t, t, c.slidingWindowForLayer(0), DataType.DOUBLE);
        INDArray x = rand(batch * t, c.hiddenSize());
        INDArray r = rand(batch * t, c.hiddenSize());
        Function<INDArray, INDArray> f = in -> Attention.forward(c, w, in, batch, t, rope, null, m, ctx).y();
        Attention.Out out = Attention.forward(c, w, x, batch, t, rope, null, m, ctx);
        INDArray dx = Attention.backward(c, w, r, batch, t, out.cache(), ctx);
        assertClose(numeric(f, x, r), dx, arch + " attention dx");
        checkLoraGrads(lora, ".self_attn.", () -> f.apply(x).mul(r).sumNumber().doubleValue());
    }

    /**
     * Sequences longer than one query block ({@link Attention#QUERY_BLOCK}): packed examples that straddle block
     * boundaries and a left-padded row. Each packed example's output equals that example run alone (one block, an
     * independent path), and dx matches central differences at sampled elements (a full check would take minutes).
     */
    @Test
    void attentionOverSeveralQueryBlocks() {
        ModelConfig c = config(Architecture.LLAMA, 0);
        LayerWeights w = layer(c);
        Map<String, LoraWeights> lora = lora(w, 2);
        ForwardContext ctx = new ForwardContext(lora::get, null);
        int batch = 2;
        int t = 2 * Attention.QUERY_BLOCK + 20;
        int[] lengths = {100, 150, t - 250};                                   // row 0: three packed examples
        int pad = 30;                                                          // row 1: left padding
        boolean[][] valid = new boolean[batch][t];
        int[][] seg = new int[batch][t];
        int[] positions = new int[batch * t];
        for (int i = 0, e = 0, start = 0; i < t; i++) {
            if (i - start == lengths[e]) {
                start = i;
                e++;
            }
            valid[0][i] = true;
            seg[0][i] = e;
            positions[i] = i - start;
            valid[1][i] = i >= pad;
            positions[t + i] = Math.max(0, i - pad);
        }
        RotaryEmbedding.Table rope = new RotaryEmbedding(c).table(positions, DataType.DOUBLE);
        INDArray m = new AttentionMask(valid, seg).build(batch, 0, t, t, 0, DataType.DOUBLE);
        INDArray x = rand(batch * t, c.hiddenSize());
        INDArray y = Attention.forward(c, w, x, batch, t, rope, null, m, ctx).y();
        for (int e = 0, start = 0; e < lengths.length; start += lengths[e], e++) {
            int n = lengths[e];
            int[] pos = new int[n];
            for (int i = 0; i < n; i++) {
                pos[i] = i;
            }
            INDArray alone = Attention.forward(c, w, x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start, start + n),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).dup(), 1, n,
                    new RotaryEmbedding(c).table(pos, DataType.DOUBLE), null,
                    AttentionMask.causal().build(1, 0, n, n, 0, DataType.DOUBLE), ctx).y();
            double diff = alone.sub(y.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start, start + n),
                    org.nd4j.linalg.indexing.NDArrayIndex.all())).amaxNumber().doubleValue();
            assertTrue(diff < 1e-10, "packed example " + e + " differs from its run alone by " + diff);
        }
        INDArray r = rand(batch * t, c.hiddenSize());
        Attention.Out out = Attention.forward(c, w, x, batch, t, rope, null, m, ctx);
        INDArray dx = Attention.backward(c, w, r, batch, t, out.cache(), ctx);
        INDArray flat = x.reshape(x.length());
        Random pick = new Random(3);
        for (int k = 0; k < 12; k++) {
            long i = pick.nextInt((int) x.length());
            double v = flat.getDouble(i);
            flat.putScalar(i, v + H);
            double up = Attention.forward(c, w, x, batch, t, rope, null, m, ctx).y().mul(r).sumNumber().doubleValue();
            flat.putScalar(i, v - H);
            double down = Attention.forward(c, w, x, batch, t, rope, null, m, ctx).y().mul(r).sumNumber().doubleValue();
            flat.putScalar(i, v);
            double want = (up - down) / (2 * H);
            double got = dx.reshape(dx.length()).getDouble(i);
            assertEquals(want, got, 1e-6 * Math.max(1, Math.abs(want)), "dx at flat element " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void wholeModelNextTokenLoss(Architecture arch) {
        TinyModelGenerator.write(tmp, arch, new TinyModelGenerator.Size(16, 2, 4, 2, 24, 300, 64), 5, DType.F32);
        Decoder d = new Decoder(WeightLoader.load(tmp, DataType.DOUBLE));
        Map<String, LoraWeights> lora = new HashMap<>();
        for (LayerWeights l : d.weights().layers()) {
            lora.putAll(lora(l, 2));
        }
        ForwardContext ctx = new ForwardContext(lora::get, new Dropout(0.2, 3));
        int v = d.config().vocabSize();
        int[][] ids = {{5, 17, 99, 3, 250, 8}, {1, 2, 3, 4, 5, 6}};
        int[][] labels = {{5, 17, 99, 3, 250, 8}, {-100, -100, -100, 4, 5, 6}};
        int[][] pos = {{0, 1, 2, 3, 4, 5}, {0, 1, 2, 0, 1, 2}};
        TrainingBatch b = new TrainingBatch(ids, labels, pos,
                new AttentionMask(null, new int[][] {{0, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 1, 1}}));
        double count = b.scoredTokens();
        CausalLmLoss.Out out = CausalLmLoss.forward(d, b, ctx);
        CausalLmLoss.backward(d, out.cache(), count, ctx);
        assertTrue(v > 250);
        checkLoraGrads(lora, ".", () -> CausalLmLoss.forward(d, b, ctx).loss().loss() / count);
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void fullParameterTrainingGradients(Architecture arch) {
        TinyModelGenerator.write(tmp, arch, new TinyModelGenerator.Size(16, 2, 4, 2, 24, 300, 64), 6, DType.F32);
        Decoder d = new Decoder(WeightLoader.load(tmp, DataType.DOUBLE));
        BaseParameters base = new BaseParameters(d.weights());
        int[][] ids = {{5, 17, 99, 3, 250, 8}, {1, 2, 3, 4, 5, 5}};
        TrainingBatch b = TrainingBatch.causal(ids);
        double count = b.scoredTokens();
        CausalLmLoss.Out out = CausalLmLoss.forward(d, b, base.context());
        CausalLmLoss.backward(d, out.cache(), count, base.context());
        for (org.lora4j.adapters.Parameter p : base.parameters()) {
            INDArray value = p.value().reshape(-1);
            INDArray grad = p.grad().reshape(-1);
            List<Double> want = new ArrayList<>();
            List<Double> got = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                // embedding rows of tokens in the batch, so that the sampled gradient is not trivially zero
                long i = p.name().contains("embed") ? 5L * d.config().hiddenSize() + rnd.nextInt(d.config().hiddenSize())
                        : rnd.nextInt((int) value.length());
                double v0 = value.getDouble(i);
                value.putScalar(i, v0 + H);
                double up = CausalLmLoss.forward(d, b, ForwardContext.BASE).loss().loss() / count;
                value.putScalar(i, v0 - H);
                double down = CausalLmLoss.forward(d, b, ForwardContext.BASE).loss().loss() / count;
                value.putScalar(i, v0);
                want.add((up - down) / (2 * H));
                got.add(grad.getDouble(i));
            }
            for (int k = 0; k < want.size(); k++) {
                assertEquals(want.get(k), got.get(k), 1e-6 + 1e-5 * Math.abs(want.get(k)), arch + " " + p.name()
                        + " want " + want + " got " + got);
            }
        }
    }

    /** Compares the LoRA gradients of modules containing {@code part} with central differences of {@code loss}. */
    private void checkLoraGrads(Map<String, LoraWeights> lora, String part, java.util.function.DoubleSupplier loss) {
        for (LoraWeights l : lora.values()) {
            if (!l.module().contains(part)) {
                continue;
            }
            for (boolean isA : new boolean[] {true, false}) {
                INDArray p = (isA ? l.a() : l.b()).reshape(-1);
                INDArray g = (isA ? l.gradA() : l.gradB()).reshape(-1);
                List<Double> want = new ArrayList<>();
                List<Double> got = new ArrayList<>();
                for (int k = 0; k < 4; k++) {
                    long i = rnd.nextInt((int) p.length());
                    double v0 = p.getDouble(i);
                    p.putScalar(i, v0 + H);
                    double up = loss.getAsDouble();
                    p.putScalar(i, v0 - H);
                    double down = loss.getAsDouble();
                    p.putScalar(i, v0);
                    want.add((up - down) / (2 * H));
                    got.add(g.getDouble(i));
                }
                INDArray w = Nd4j.createFromArray(want.toArray(new Double[0]));
                INDArray gg = Nd4j.createFromArray(got.toArray(new Double[0]));
                double err = w.sub(gg).norm2Number().doubleValue() / Math.max(1e-9, w.norm2Number().doubleValue());
                assertTrue(w.norm2Number().doubleValue() > 1e-10, l.module() + (isA ? " dA" : " dB") + " is zero");
                assertTrue(err < 1e-5, l.module() + (isA ? " dA" : " dB") + ": relative error " + err
                        + " want " + want + " got " + got);
            }
        }
    }
}
