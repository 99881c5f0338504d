package org.lora4j.trainer.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lora4j.adapters.lora.LinearModules;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.ModuleSelector;
import org.lora4j.adapters.safetensors.Checkpoint;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.model.WeightLoader;
import org.lora4j.trainer.recipe.Recipe;
import org.lora4j.trainer.recipe.RecipeLoader;
import org.lora4j.trainer.train.TrainingJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code lora4j validate}: checks a recipe, its paths and target modules without loading weights or training. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Check a recipe (keys, values, model folder, data files, target modules) and print the "
                + "trainable-parameter count, without training.")
public final class ValidateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--recipe", required = true, paramLabel = "FILE")
    Path recipe;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a recipe value (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Recipe r = RecipeLoader.load(recipe, overrides);
        Path model = Path.of(r.model().path());
        ModelConfig config = ModelConfig.load(model);
        try (Checkpoint ckpt = Checkpoint.open(model)) {
            WeightLoader.validate(ckpt, config);
            if (!Files.isRegularFile(model.resolve("tokenizer.json"))) {
                throw new IllegalArgumentException(model + " has no tokenizer.json; training on text needs the model's tokenizer");
            }
            for (String f : new String[] {r.data().train(), r.data().validation()}) {
                if (f != null && !Files.isRegularFile(Path.of(f))) {
                    throw new IllegalArgumentException("data file " + f + " does not exist");
                }
            }
            Map<String, int[]> shapes = LinearModules.linearShapes(ckpt);
            if (config.tieWordEmbeddings()) {
                shapes.put("lm_head", new int[] {config.vocabSize(), config.hiddenSize()});
            }
            LoraConfig cfg = TrainingJob.loraConfig(r.adapter(), r.model().path());
            List<String> targets = ModuleSelector.select(new ArrayList<>(shapes.keySet()), cfg);
            long count = 0;
            for (String t : targets) {
                int[] s = shapes.get(t);
                count += (long) cfg.r() * (s[0] + s[1]);
            }
            out.println("recipe " + recipe + " is valid");
            out.println("model: " + config);
            out.println("LoRA r=" + cfg.r() + " on " + targets.size() + " modules, e.g. " + targets.get(0));
            out.printf("trainable parameters: %,d%n", count);
        }
        return 0;
    }
}
