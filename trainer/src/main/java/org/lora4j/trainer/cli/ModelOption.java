package org.lora4j.trainer.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.lora4j.inference.LanguageModel;
import picocli.CommandLine.Option;

/** {@code --model DIR}: a Hugging Face model folder. */
final class ModelOption {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR",
            description = "Hugging Face model folder (config.json + *.safetensors [+ tokenizer.json]).")
    Path dir;

    LanguageModel load(PrintWriter err) {
        long t0 = System.nanoTime();
        LanguageModel lm = LanguageModel.load(dir);
        err.printf("loaded %s from %s in %.1f s%n", lm.config(), dir, (System.nanoTime() - t0) / 1e9);
        err.flush();
        return lm;
    }
}
