package org.lora4j.trainer.train;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Locale;
import java.util.Optional;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.LoraInit;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.data.batch.Sequence;
import org.lora4j.data.format.TrainOn;
import org.lora4j.data.pipeline.CacheDir;
import org.lora4j.data.pipeline.DataPipeline;
import org.lora4j.data.pipeline.DataSettings;
import org.lora4j.data.pipeline.PreparedData;
import org.lora4j.data.tokenizer.HfTokenizer;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.model.BaseParameters;
import org.lora4j.trainer.optim.AdamW;
import org.lora4j.trainer.progress.Progress;
import org.lora4j.trainer.recipe.AdapterSection;
import org.lora4j.trainer.recipe.Recipe;
import org.lora4j.trainer.recipe.RecipeLoader;
import org.lora4j.trainer.schedule.LrSchedule;
import org.lora4j.trainer.state.CheckpointDir;
import org.lora4j.trainer.state.TrainerState;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A training run as a recipe describes it: loads the base and tokenizer, builds the data, initialises the LoRA
 * adapter (or makes every base weight trainable), and runs {@link Trainer} from scratch or from the newest
 * checkpoint in the output folder. The final adapter (PEFT files) or model folder, the resolved recipe and the
 * metrics land in {@code checkpoint.output_dir}.
 */
public final class TrainingJob {
    private TrainingJob() {
    }

    /** What a finished run reports; {@code savedDir} is the PEFT adapter or, for full training, the model folder. */
    public record Summary(Path outputDir, Path savedDir, long trainableParameters, long steps, double finalLoss,
                          Evaluator.Result before, Evaluator.Result after) {
    }

    /** {@code resume}: continue from the newest checkpoint (also when the recipe says checkpoint.resume: auto). */
    public static Summary run(Recipe recipe, boolean resume, PrintStream console) {
        if (recipe.adapter().method().equals("none")) {
            throw new IllegalArgumentException("adapter.method is 'none': there is nothing to train. Set adapter.method:"
                    + " lora, or full for full-parameter training");
        }
        boolean full = recipe.adapter().method().equals("full");
        Path out = Path.of(recipe.checkpoint().outputDir());
        Optional<Path> latest = CheckpointDir.latest(out);
        resume |= recipe.checkpoint().resume().equals("auto");
        if (latest.isPresent() && !resume) {
            throw new IllegalArgumentException(out + " already holds " + latest.get().getFileName() + "; pass --resume "
                    + "(or set checkpoint.resume: auto) to continue that run, or set checkpoint.output_dir to a new folder");
        }
        DataType dtype = dataType(recipe.model().dtype());
        try (LanguageModel base = LanguageModel.load(Path.of(recipe.model().path()), dtype)) {
            HfTokenizer tok = base.requireTokenizer("training");
            var d = recipe.data();
            DataSettings ds = new DataSettings(d.format(), d.maxSeqLen(), d.pack(), TrainOn.valueOf(d.trainOn()
                    .toUpperCase(Locale.ROOT)));
            PreparedData trainData = prepare(Path.of(d.train()), tok, ds, "train", console);
            List<Sequence> train = trainData.sequences();
            List<Sequence> val = List.of();
            if (d.validation() != null) {
                val = prepare(Path.of(d.validation()), tok, ds, "validation", console).sequences();
            } else if (d.validationSplit() > 0) {
                List<Sequence> shuffled = new ArrayList<>(train);
                Collections.shuffle(shuffled, new Random(recipe.training().seed()));
                int n = Math.max(1, (int) Math.round(shuffled.size() * d.validationSplit()));
                val = shuffled.subList(0, n);
                train = shuffled.subList(n, shuffled.size());
            }
            int padId = tok.padId().orElse(tok.eosIds().length > 0 ? tok.eosIds()[0] : 0);
            int seqLen = d.maxSeqLen();
            LoraConfig cfg = loraConfig(recipe.adapter(), recipe.model().path());
            Trainable trainable;
            String what;
            if (full) {
                trainable = new Trainable.Full(base.decoder(), new BaseParameters(base.decoder().weights()),
                        Path.of(recipe.model().path()));
                what = "full-parameter training";
            } else {
                LoraAdapter adapter = LoraAdapter.init(cfg, base.linearShapes(), recipe.training().seed(), dtype);
                trainable = new Trainable.Lora(adapter);
                what = String.format(Locale.ROOT, "LoRA r=%d alpha=%s on %d modules", cfg.r(), cfg.loraAlpha(),
                        adapter.modules().size());
            }
            LanguageModel lm = base;
            long trainableCount = trainable.parameters().stream().mapToLong(p -> p.value().length()).sum();
            var t = recipe.training();
            BatchSampler sampler = new BatchSampler(train, t.batchSize(), t.seed(), padId);
            long maxSteps = t.maxSteps() > 0 ? t.maxSteps()
                    : Math.max(1, t.epochs() * sampler.batchesPerEpoch() / t.gradientAccumulationSteps());
            var o = recipe.optimizer();
            AdamW opt = new AdamW(trainable.parameters(), o.beta1(), o.beta2(), o.eps(), o.weightDecay());
            var sc = recipe.schedule();
            LrSchedule schedule = LrSchedule.of(sc.type(), o.lr(), sc.warmupSteps(), maxSteps, sc.minLrRatio());
            String yaml = RecipeLoader.toYaml(recipe);
            Trainer.Settings settings = new Trainer.Settings(maxSteps, t.gradientAccumulationSteps(), t.seed(),
                    full ? 0 : cfg.loraDropout(), o.maxGradNorm(), t.evalEvery(), t.evalBatches(), t.batchSize(),
                    recipe.checkpoint().saveEvery(), recipe.checkpoint().keepLast(),
                    recipe.logging().logEvery(), out, yaml, padId);
            TrainerState state = TrainerState.initial(t.seed()).withRecipeHash(RecipeLoader.hash(recipe));
            MetricsLog log;
            Trainer trainer;
            if (latest.isPresent()) {
                log = new MetricsLog(out.resolve(recipe.logging().metricsFile()), console, recipe.logging().logEvery(),
                        CheckpointDir.stepOf(latest.get()));
                trainer = new Trainer(lm.decoder(), trainable, sampler, val, opt, schedule, settings, log);
                state = trainer.resume(latest.get());
                console.println("resuming from " + latest.get() + " at step " + state.step());
            } else {
                log = new MetricsLog(out.resolve(recipe.logging().metricsFile()), console, recipe.logging().logEvery(), -1);
                trainer = new Trainer(lm.decoder(), trainable, sampler, val, opt, schedule, settings, log);
            }
            console.printf(Locale.ROOT, "%s%n%s: %,d trainable parameters (%.3f%% of %,d)%n"
                            + "%d training rows of at most %d tokens, %d validation; %d steps of %d x %d rows%n",
                    lm.config(), what, trainableCount,
                    100.0 * trainableCount / lm.decoder().weights().parameterCount(),
                    lm.decoder().weights().parameterCount(), train.size(), seqLen, val.size(), maxSteps,
                    t.gradientAccumulationSteps(), t.batchSize());
            Evaluator.Result before = val.isEmpty() || latest.isPresent() ? null : trainer.evaluate();
            if (before != null) {
                console.printf(Locale.ROOT, "before training: val_loss %.4f  perplexity %.3f%n", before.loss(),
                        before.perplexity());
            }
            Files.createDirectories(out);
            RecipeLoader.save(recipe, out.resolve("recipe.yaml"));
            TrainerState end;
            long t0 = System.nanoTime();
            try (log) {
                end = trainer.run(state);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            Path savedDir = out.resolve(trainable.savedName());
            trainable.save(savedDir);
            Evaluator.Result after = val.isEmpty() ? null : trainer.evaluate();
            console.println(trainable.savedName() + " written to " + savedDir);
            TrainingReport.write(out, yaml, what, trainableCount, lm.decoder().weights().parameterCount(), seconds,
                    TrainingReport.PeakMemory.now(), out.resolve(recipe.logging().metricsFile()));
            console.println("report: " + out.resolve("index.html"));
            return new Summary(out, savedDir, trainableCount, end.step(), lastLoss(out, recipe), before, after);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Runs the data pipeline with a progress display; the tokenized cache lives in {@link CacheDir}. */
    static PreparedData prepare(Path dataset, HfTokenizer tok, DataSettings s, String split, PrintStream console) {
        PreparedData p;
        try (Progress progress = Progress.create("tokenizing " + split, -1, 10_000, console)) {
            p = DataPipeline.prepare(dataset, tok, s, CacheDir.resolve(), n -> progress.update(n, ""));
        }
        console.printf(Locale.ROOT, "%s: %s, format %s, %s; %d rows%s%n", split, dataset, p.format(), p.stats(),
                p.sequences().size(), s.pack() ? String.format(Locale.ROOT, " (packed, %.1f%% full)",
                        100 * p.packingEfficiency()) : "");
        return p;
    }

    /** Maps the recipe's adapter section onto PEFT's LoraConfig. */
    public static LoraConfig loraConfig(AdapterSection a, String baseModel) {
        TargetModules targets;
        if (a.targetRegex() != null) {
            targets = new TargetModules.Regex(a.targetRegex());
        } else if (a.targetModules().equals(List.of(AdapterSection.ALL_LINEAR))) {
            targets = new TargetModules.AllLinear();
        } else {
            targets = new TargetModules.Names(a.targetModules());
        }
        LoraInit init = switch (a.initLoraWeights()) {
            case "gaussian" -> LoraInit.GAUSSIAN;
            case "false" -> LoraInit.RANDOM;
            default -> LoraInit.KAIMING_UNIFORM;
        };
        return new LoraConfig(a.r(), a.loraAlpha(), a.loraDropout(), targets, a.layersToTransform(), a.useRslora(),
                init, baseModel);
    }

    public static DataType dataType(String name) {
        return switch (name) {
            case "float32", "fp32" -> DataType.FLOAT;
            case "float64", "fp64" -> DataType.DOUBLE;
            default -> throw new IllegalArgumentException("model.dtype '" + name + "' is not supported for training; "
                    + "use float32 (weights stored as bf16/fp16 are converted on load)");
        };
    }

    private static double lastLoss(Path out, Recipe recipe) {
        try {
            List<String> lines = Files.readAllLines(out.resolve(recipe.logging().metricsFile()));
            for (int i = lines.size() - 1; i >= 0; i--) {
                var n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines.get(i));
                if (n.has("loss")) {
                    return n.get("loss").asDouble();
                }
            }
        } catch (java.io.IOException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
