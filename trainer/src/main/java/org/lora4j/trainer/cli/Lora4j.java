package org.lora4j.trainer.cli;

import java.io.UncheckedIOException;
import org.lora4j.data.tokenizer.TokenizerException;
import org.lora4j.adapters.safetensors.CheckpointException;
import org.lora4j.inference.config.ConfigException;
import org.lora4j.trainer.recipe.RecipeException;
import org.lora4j.trainer.train.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code lora4j} command line. */
@Command(name = "lora4j", mixinStandardHelpOptions = true, version = "lora4j 0.1.0",
        description = "LoRA fine-tuning of open-weight LLMs on the JVM.",
        subcommands = {GenerateCommand.class, ScoreCommand.class, TrainCommand.class, EvalCommand.class,
            MergeCommand.class, ServeCommand.class, ValidateCommand.class, PlanCommand.class, RecipesCommand.class,
            BenchCommand.class,
            DataCommand.class,
            TinyModelCommand.class, DemoCommand.class,
            CommandLine.HelpCommand.class},
        footer = {"", "Examples:",
            "  lora4j demo",
            "  lora4j tiny-model --arch llama --out /tmp/tiny-llama",
            "  lora4j generate --model /tmp/tiny-llama --prompt \"The model reads\" --max-new-tokens 20",
            "  lora4j score --model /tmp/tiny-llama --prompt-ids 1,2,3 --json",
            "  lora4j recipes",
            "  lora4j plan --recipe recipes/smollm2/135m_lora.yaml"})
public final class Lora4j implements Runnable {
    /** Exit codes: 0 ok, 1 internal error (a bug: please report), 2 usage, 3 bad input (model, data, files),
     * 4 training diverged (NaN/Inf). */
    public static final int EXIT_BAD_INPUT = 3;
    public static final int EXIT_DIVERGED = 4;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Lora4j());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof TrainingDivergedException) {
                cmd.getErr().println("error: " + ex.getMessage());
                return EXIT_DIVERGED;
            }
            if (ex instanceof CheckpointException || ex instanceof ConfigException || ex instanceof TokenizerException
                    || ex instanceof org.lora4j.data.arrow.DatasetException
                    || ex instanceof RecipeException || ex instanceof IllegalArgumentException
                    || ex instanceof UncheckedIOException) {
                cmd.getErr().println("error: " + ex.getMessage());
                return EXIT_BAD_INPUT;
            }
            cmd.getErr().println("internal error (please report it with the command you ran):");
            ex.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
