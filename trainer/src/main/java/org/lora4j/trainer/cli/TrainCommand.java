package org.lora4j.trainer.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lora4j.trainer.recipe.Recipe;
import org.lora4j.trainer.recipe.RecipeLoader;
import org.lora4j.trainer.train.TrainingJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lora4j train}: runs a YAML recipe. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a LoRA adapter as a YAML recipe describes (see recipes/).",
        footer = {"", "Examples:",
            "  lora4j train --recipe recipes/examples/tiny_lora.yaml",
            "  lora4j train --recipe my.yaml --set optimizer.lr=1e-4 --set training.max_steps=200",
            "  lora4j train --recipe my.yaml --resume      # continue from the newest checkpoint"})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--recipe", required = true, paramLabel = "FILE", description = "The YAML recipe.")
    Path recipe;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a recipe value, e.g. optimizer.lr=1e-4 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--resume", description = "Continue from the newest checkpoint in checkpoint.output_dir.")
    boolean resume;

    @Override
    public Integer call() {
        Recipe r = RecipeLoader.load(recipe, overrides);
        PrintStream out = System.out;
        TrainingJob.Summary s = TrainingJob.run(r, resume, out);
        out.printf(Locale.ROOT, "done: %d steps, final train loss %.4f%s%n", s.steps(), s.finalLoss(),
                s.after() == null ? "" : String.format(Locale.ROOT, ", val_loss %.4f (perplexity %.3f)",
                        s.after().loss(), s.after().perplexity()));
        if (r.adapter().method().equals("full")) {
            out.println("model: " + s.savedDir() + "   (lora4j generate --model " + s.savedDir() + " ...)");
        } else {
            out.println("adapter: " + s.savedDir() + "   (lora4j generate --model " + r.model().path() + " --adapter "
                    + s.savedDir() + " ...)");
        }
        return 0;
    }
}
