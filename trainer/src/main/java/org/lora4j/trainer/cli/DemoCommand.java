package org.lora4j.trainer.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lora4j.adapters.merge.LoraMerge;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.inference.LanguageModel;
import org.lora4j.trainer.demo.DemoAssets;
import org.lora4j.trainer.demo.DemoServerCheck;
import org.lora4j.trainer.demo.TaskAccuracy;
import org.lora4j.trainer.demo.TicketTask;
import org.lora4j.trainer.recipe.Recipe;
import org.lora4j.trainer.recipe.RecipeLoader;
import org.lora4j.trainer.train.TrainingJob;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lora4j demo}: the whole job on the embedded default. A small base model (pre-trained by lora4j, shipped in
 * the jar) is specialised with LoRA on a generated domain task (free-text support messages → a fixed JSON form):
 * held-out accuracy before, training with progress, accuracy after, two answers side by side, the PEFT adapter, a
 * merged model, and one request answered by the OpenAI-compatible server.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, subcommands = DemoAssetsCommand.class,
        description = "Specialise the embedded base model with LoRA on a generated task, end to end (no download).")
public final class DemoCommand implements Callable<Integer> {
    static final String BASE_RESOURCE = "/org/lora4j/demo/base/";
    static final List<String> BASE_FILES = List.of("config.json", "model.safetensors", "tokenizer.json",
            "tokenizer_config.json");

    @Option(names = "--out", defaultValue = "lora4j-demo", paramLabel = "DIR",
            description = "Where the demo writes everything. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--steps", defaultValue = "250", description = "LoRA training steps. Default: ${DEFAULT-VALUE}.")
    int steps;

    @Option(names = "--eval-examples", defaultValue = "60",
            description = "Held-out requests scored before and after. Default: ${DEFAULT-VALUE}.")
    int evalExamples;

    @Option(names = "--skip-server", description = "Do not start the server at the end.")
    boolean skipServer;

    @Override
    public Integer call() throws IOException {
        PrintStream o = System.out;
        Path base = out.resolve("base");
        extractBase(base);
        List<TicketTask.Example> train = TicketTask.examples(2036, 400);
        List<TicketTask.Example> heldOut = TicketTask.examples(2046, evalExamples);
        DemoAssets.writeTaskDataset(out.resolve("data/train"), train);
        DemoAssets.writeTaskDataset(out.resolve("data/validation"), heldOut);
        o.println("lora4j demo: specialise a small base model to route support messages as JSON");
        o.println("  task: \"" + heldOut.get(0).message() + "\"  ->  " + heldOut.get(0).json());
        o.println("  base model: " + base + " (pre-trained by lora4j, recipes/demo/base_full.yaml)");
        o.println("  data: " + train.size() + " training and " + heldOut.size() + " held-out requests in "
                + out.resolve("data") + " (Arrow, save_to_disk layout)");
        o.println();

        TaskAccuracy.Result before;
        try (LanguageModel lm = LanguageModel.load(base)) {
            before = TaskAccuracy.evaluate(lm, heldOut, 30);
        }
        o.printf(Locale.ROOT, "held-out accuracy of the base model:  %d/%d (%.0f%%)%n%n", before.correct(),
                before.total(), before.percent());

        Path run = out.resolve("run");
        Recipe recipe = RecipeLoader.parse(String.join("\n",
                "model: {path: " + base + "}",
                "adapter: {method: lora, r: 16, lora_alpha: 32, lora_dropout: 0.0, target_modules: all-linear}",
                "data: {train: " + out.resolve("data/train") + ", validation: " + out.resolve("data/validation")
                        + ", format: messages, max_seq_len: 128, pack: true, train_on: completion}",
                "optimizer: {lr: 0.003, max_grad_norm: 1.0}",
                "schedule: {type: cosine, warmup_steps: 10, min_lr_ratio: 0.1}",
                "training: {max_steps: " + steps + ", batch_size: 8, seed: 7, eval_every: " + Math.max(1, steps / 3) + "}",
                "checkpoint: {output_dir: " + run + ", save_every: 0, keep_last: 1, resume: never}",
                "logging: {log_every: 10}", ""), "demo recipe", List.of());
        deleteRun(run);
        RecipeLoader.save(recipe, out.resolve("demo_recipe.yaml"));
        TrainingJob.Summary s = TrainingJob.run(recipe, false, o);
        Path adapter = s.savedDir();

        TaskAccuracy.Result after;
        try (LanguageModel lm = LanguageModel.load(base).withAdapter(adapter)) {
            after = TaskAccuracy.evaluate(lm, heldOut, 30);
        }
        o.println();
        o.printf(Locale.ROOT, "held-out accuracy:  base %d/%d (%.0f%%)  ->  with the LoRA adapter %d/%d (%.0f%%)%n",
                before.correct(), before.total(), before.percent(), after.correct(), after.total(), after.percent());
        o.println();
        for (int i = 0; i < 2; i++) {
            o.println("request:   " + heldOut.get(i).message());
            o.println("  base:    " + oneLine(before.answers().get(i)));
            o.println("  adapted: " + oneLine(after.answers().get(i)));
            o.println("  wanted:  " + heldOut.get(i).json());
        }
        o.println();

        Path merged = out.resolve("merged");
        LoraMerge.mergeModelFolder(base, PeftAdapterFiles.load(adapter, DataType.FLOAT, w -> { }), merged,
                1L << 30, true, (i, n) -> { });
        try (LanguageModel m = LanguageModel.load(merged)) {
            TaskAccuracy.Result mergedAcc = TaskAccuracy.evaluate(m, heldOut.subList(0, Math.min(10, heldOut.size())), 10);
            o.printf(Locale.ROOT, "merged model %s: %d/%d of the first held-out requests right (plain HF folder)%n",
                    merged, mergedAcc.correct(), mergedAcc.total());
        }
        o.println("PEFT adapter: " + adapter + "  (" + PeftAdapterFiles.load(adapter, DataType.FLOAT, w -> { })
                .trainableParameterCount() + " parameters)");
        o.println("training report: " + run.resolve("index.html"));
        if (!skipServer) {
            o.println();
            DemoServerCheck.run(base, adapter, heldOut.get(2), o);
        }
        o.println();
        o.println("Next: scripts/lora4j generate --model " + base + " --adapter " + adapter + " --chat \""
                + TicketTask.INSTRUCTION.replace("\n", " ") + " " + heldOut.get(3).message() + "\"");
        return 0;
    }

    /** Copies the embedded base model out of the jar. */
    static void extractBase(Path dir) {
        try {
            Files.createDirectories(dir);
            for (String f : BASE_FILES) {
                try (InputStream in = DemoCommand.class.getResourceAsStream(BASE_RESOURCE + f)) {
                    if (in == null) {
                        throw new IllegalStateException("the demo base model is missing from the build (" + BASE_RESOURCE
                                + f + "); rebuild it with recipes/demo/base_full.yaml");
                    }
                    Path tmp = Files.createTempFile(dir, "." + f, ".tmp");
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(tmp, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the demo base model to " + dir, e);
        }
    }

    private static void deleteRun(Path run) throws IOException {
        if (!Files.exists(run)) {
            return;
        }
        try (var paths = Files.walk(run)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace("\n", "\\n");
    }
}
