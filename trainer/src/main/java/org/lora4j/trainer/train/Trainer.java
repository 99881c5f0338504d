package org.lora4j.trainer.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.lora4j.adapters.Parameter;
import org.lora4j.data.batch.Sequence;
import org.lora4j.inference.model.Arena;
import org.lora4j.inference.model.CausalLmLoss;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.Dropout;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.NativeMemory;
import org.lora4j.inference.model.TrainingBatch;
import org.lora4j.trainer.optim.AdamW;
import org.lora4j.trainer.optim.GradClip;
import org.lora4j.trainer.schedule.LrSchedule;
import org.lora4j.trainer.state.CheckpointDir;
import org.lora4j.trainer.state.TrainerState;

/**
 * The training loop (LoRA or full-parameter, see {@link Trainable}). One optimizer step:
 * <pre>
 *   zero grads;  n = Σ scored tokens of the next G micro-batches
 *   for each micro-batch k:  loss_k = CE_sum(forward(batch_k, dropout seed(step, k)));  backward(loss_k / n)
 *   loss = Σ loss_k / n;  clip global grad norm;  AdamW step at lr = schedule(step)
 * </pre>
 * Everything a step depends on — data position, dropout seeds, optimizer moments, schedule — is a function of
 * the checkpointed state, so a resumed run reproduces an uninterrupted one.
 */
public final class Trainer {

    /** Loop settings (from the recipe). */
    public record Settings(long maxSteps, int gradientAccumulationSteps, long seed, double loraDropout,
                           double maxGradNorm, long evalEvery, int evalBatches, int batchSize, long saveEvery,
                           int keepLast, long logEvery, Path outputDir, String recipeYaml, int padId) {
    }

    /** One optimizer step's numbers, for progress display and the metrics file. */
    public record StepMetrics(long step, double loss, double lr, double gradNorm, long tokens, double seconds) {
    }

    /** Receives progress; every method may be a no-op. */
    public interface Listener {
        default void onStep(StepMetrics m, long maxSteps) {
        }

        default void onEval(long step, Evaluator.Result r) {
        }

        default void onCheckpoint(long step, Path dir) {
        }
    }

    private final Decoder decoder;
    private final Trainable trainable;
    private final List<Parameter> params;
    private final BatchSampler sampler;
    private final List<Sequence> validation;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private final Settings s;
    private final Listener listener;
    private final Arena arena = Arena.pooled();

    public Trainer(Decoder decoder, Trainable trainable, BatchSampler sampler, List<Sequence> validation,
                   AdamW optimizer, LrSchedule schedule, Settings settings, Listener listener) {
        this.decoder = decoder;
        this.trainable = trainable;
        this.params = optimizer.params();
        this.sampler = sampler;
        this.validation = validation;
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.s = settings;
        this.listener = listener;
    }

    /** Restores optimizer moments and the data position from a checkpoint written by this loop. */
    public TrainerState resume(Path checkpoint) {
        TrainerState st = CheckpointDir.readState(checkpoint);
        trainable.restore(checkpoint.resolve(trainable.savedName()));
        optimizer.load(checkpoint.resolve("optimizer.safetensors"));
        sampler.seek(st.epoch(), st.examplesSeenInEpoch());
        return st;
    }

    /** Runs from {@code state} to {@code maxSteps}; returns the final state (a checkpoint is written at the end). */
    public TrainerState run(TrainerState state) {
        TrainerState st = state;
        while (st.step() < s.maxSteps()) {
            long t0 = System.nanoTime();
            StepMetrics m = step(st.step());
            st = new TrainerState(st.step() + 1, sampler.epoch(), sampler.taken(), st.seed(),
                    st.tokensSeen() + m.tokens(), st.bestValLoss(), st.recipeHash());
            m = new StepMetrics(m.step(), m.loss(), m.lr(), m.gradNorm(), m.tokens(), (System.nanoTime() - t0) / 1e9);
            listener.onStep(m, s.maxSteps());
            boolean last = st.step() == s.maxSteps();
            if (!validation.isEmpty() && ((s.evalEvery() > 0 && st.step() % s.evalEvery() == 0) || last)) {
                Evaluator.Result r = evaluate();
                listener.onEval(st.step(), r);
                if (Double.isNaN(st.bestValLoss()) || r.loss() < st.bestValLoss()) {
                    st = new TrainerState(st.step(), st.epoch(), st.examplesSeenInEpoch(), st.seed(), st.tokensSeen(),
                            r.loss(), st.recipeHash());
                }
            }
            if (last || (s.saveEvery() > 0 && st.step() % s.saveEvery() == 0)) {
                listener.onCheckpoint(st.step(), checkpoint(st));
            }
        }
        return st;
    }

    public Evaluator.Result evaluate() {
        return Evaluator.evaluate(decoder, trainable.evalContext().withArena(arena), validation, s.batchSize(), s.evalBatches(),
                s.padId());
    }

    private StepMetrics step(long step) {
        params.forEach(Parameter::zeroGrad);
        int g = s.gradientAccumulationSteps();
        TrainingBatch[] micro = new TrainingBatch[g];
        long count = 0;
        for (int k = 0; k < g; k++) {
            micro[k] = sampler.next();
            count += micro[k].scoredTokens();
        }
        double lossSum = 0;
        for (int k = 0; k < g; k++) {
            Dropout dropout = s.loraDropout() > 0 ? new Dropout(s.loraDropout(), Dropout.seedFor(s.seed(), step, k)) : null;
            ForwardContext ctx = trainable.trainingContext(dropout).withArena(arena);
            CausalLmLoss.Out out = CausalLmLoss.forward(decoder, micro[k], ctx);
            CausalLmLoss.backward(decoder, out.cache(), count, ctx);
            lossSum += out.loss().loss();
            arena.reset();
        }
        double loss = lossSum / count;
        double norm = GradClip.clipGlobalNorm(params, s.maxGradNorm());
        if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
            throw new TrainingDivergedException(String.format(Locale.ROOT,
                    "step %d: loss %s, gradient norm %s; stopped before the optimizer step, the adapter of the last "
                            + "checkpoint in %s is intact. Lower optimizer.lr or set optimizer.max_grad_norm.",
                    step + 1, loss, norm, s.outputDir()));
        }
        double lr = schedule.lr(step);
        optimizer.step(lr);
        NativeMemory.collectIfGrown();
        return new StepMetrics(step + 1, loss, lr, norm, count, 0);
    }

    private Path checkpoint(TrainerState st) {
        return CheckpointDir.write(s.outputDir(), st.step(), st, s.recipeYaml(), dir -> {
            trainable.save(dir.resolve(trainable.savedName()));
            optimizer.save(dir.resolve("optimizer.safetensors"));
        }, s.keepLast());
    }
}
