package org.lora4j.trainer.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.lora4j.adapters.Parameter;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.inference.model.Arena;
import org.lora4j.inference.model.CausalLmLoss;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.ModelWeights;
import org.lora4j.inference.model.NativeMemory;
import org.lora4j.inference.model.TrainingBatch;
import org.lora4j.trainer.optim.AdamW;
import org.lora4j.trainer.optim.GradClip;

/**
 * LoRA training throughput: the optimizer step of {@code Trainer} (zero grads, forward to the summed loss,
 * backward, global-norm clip, AdamW, {@link NativeMemory#collectIfGrown}) on random unpadded {@code [batch, seq]}
 * token rows, one micro-batch per step.
 * Warm-up steps are excluded; every measured step is timed whole and by phase. Also reports the memory terms the
 * issue's budget names: frozen weights, LoRA + optimizer state, and the activations the forward keeps for backward.
 */
public final class TrainingBench {

    /**
     * Wall seconds of each measured step and of its phases (forward incl. loss; backward; clip + AdamW + the GC
     * that {@link NativeMemory#collectIfGrown} may run).
     */
    public record Timings(Samples step, Samples forward, Samples backward, Samples optimizer) {
    }

    /**
     * @param weightsBytes     the frozen weights (each tensor once; tied embeddings once)
     * @param stateBytes       LoRA A, B, their gradients, AdamW's m, v and its per-parameter scratch
     * @param activationBytes  array bytes the forward's cache holds for backward (logits included), measured on a step
     */
    public record MemoryTerms(long weightsBytes, long stateBytes, long activationBytes) {
        /** The budget: weights + state + activations + 25%. */
        public long budgetBytes() {
            return Math.round(1.25 * (weightsBytes + stateBytes + activationBytes));
        }
    }

    public record Result(BenchShape shape, FlopCount flops, long loraParams, Timings timings, MemoryTerms memory,
                         double firstLoss, double lastLoss, StepProfiler.Profile profile) {

        public Samples tokensPerSecond() {
            return timings.step().rates(shape.tokensPerStep());
        }

        public long flopsPerToken() {
            return flops.trainingPerToken(shape.seq());
        }

        /** Model FLOPs utilization of the median step against {@code peakGflops}. */
        public double mfu(double peakGflops) {
            return tokensPerSecond().median() * flopsPerToken() / (peakGflops * 1e9);
        }
    }

    private TrainingBench() {
    }

    /**
     * Runs {@code warmup} + {@code steps} optimizer steps on {@code decoder} with a fresh adapter of
     * {@code shape.lora()}; samples the measured steps with JFR when {@code profile}.
     */
    public static Result run(BenchShape shape, Decoder decoder, Map<String, int[]> linearShapes, int warmup,
                             int steps, boolean profile, PrintStream log) {
        LoraAdapter adapter = LoraAdapter.init(shape.lora(), linearShapes, 7, decoder.weights().dataType());
        List<Parameter> params = adapter.parameters();
        AdamW optimizer = new AdamW(params, 0.9, 0.999, 1e-8, 0.0);
        Arena arena = Arena.pooled();
        ForwardContext ctx = ForwardContext.withAdapter(adapter::get).withArena(arena);
        FlopCount flops = FlopCount.of(decoder.config(), adapter.trainableParameterCount());
        Random rng = new Random(42);

        long activations = 0;
        List<Double> step = new ArrayList<>();
        List<Double> fwd = new ArrayList<>();
        List<Double> bwd = new ArrayList<>();
        List<Double> opt = new ArrayList<>();
        double firstLoss = Double.NaN;
        double lastLoss = Double.NaN;
        StepProfiler profiler = null;
        for (int s = 0; s < warmup + steps; s++) {
            boolean measured = s >= warmup;
            if (measured && profile && profiler == null) {
                profiler = StepProfiler.start(10);
            }
            TrainingBatch batch = TrainingBatch.causal(randomIds(rng, shape.batch(), shape.seq(),
                    decoder.config().vocabSize()));
            long count = batch.scoredTokens();
            long t0 = System.nanoTime();
            params.forEach(Parameter::zeroGrad);
            CausalLmLoss.Out out = CausalLmLoss.forward(decoder, batch, ctx);
            long forwardNs = System.nanoTime() - t0;
            if (s == 0) {
                activations = RetainedBytes.of(out.cache());                 // outside the timed phases
            }
            long tb = System.nanoTime();
            CausalLmLoss.backward(decoder, out.cache(), count, ctx);
            if (s == 0) {
                log.printf(Locale.ROOT, "  activation buffers (arena): %.1f MiB, %d still handed out after backward%n",
                        arena.allocatedBytes() / 1048576.0, arena.outstanding());
            }
            arena.reset();
            long t2 = System.nanoTime();
            GradClip.clipGlobalNorm(params, 1.0);
            optimizer.step(1e-4);
            NativeMemory.collectIfGrown();                                    // as Trainer: a GC when RSS grew
            long t3 = System.nanoTime();
            double loss = out.loss().loss() / count;
            if (s == 0) {
                firstLoss = loss;
            }
            lastLoss = loss;
            double stepSeconds = (forwardNs + (t3 - tb)) / 1e9;
            if (measured) {
                step.add(stepSeconds);
                fwd.add(forwardNs / 1e9);
                bwd.add((t2 - tb) / 1e9);
                opt.add((t3 - t2) / 1e9);
            }
            log.printf(Locale.ROOT, "  %s train %s %d/%d: %.3f s (%.0f tokens/s), loss %.4f%n", shape.name(),
                    measured ? "step" : "warm-up", measured ? s - warmup + 1 : s + 1, measured ? steps : warmup,
                    stepSeconds, shape.tokensPerStep() / stepSeconds, loss);
        }
        StepProfiler.Profile prof = profiler == null ? StepProfiler.Profile.NONE : profiler.stop();
        long weights = weightBytes(decoder.weights());
        long state = RetainedBytes.of(params) + 3 * RetainedBytes.of(params.stream().map(Parameter::value).toList());
        return new Result(shape, flops, adapter.trainableParameterCount(),
                new Timings(Samples.of(step), Samples.of(fwd), Samples.of(bwd), Samples.of(opt)),
                new MemoryTerms(weights, state, activations), firstLoss, lastLoss, prof);
    }

    /** Bytes of the frozen weight tensors, each once (a tied lm_head is the embedding). */
    static long weightBytes(ModelWeights w) {
        return RetainedBytes.of(List.of(w.embedTokens(), w.layers(), w.norm(), w.lmHead()));
    }

    static int[][] randomIds(Random rng, int rows, int len, int vocab) {
        int[][] ids = new int[rows][len];
        for (int[] row : ids) {
            for (int i = 0; i < len; i++) {
                row[i] = rng.nextInt(vocab);
            }
        }
        return ids;
    }
}
