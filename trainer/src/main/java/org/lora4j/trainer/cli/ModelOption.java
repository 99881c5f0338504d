package org.lora4j.trainer.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.lora4j.inference.LanguageModel;
import picocli.CommandLine.Option;

/** {@code --model DIR [--adapter DIR]}: a Hugging Face model folder, optionally with a PEFT adapter unmerged. */
final class ModelOption {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR",
            description = "Hugging Face model folder (config.json + *.safetensors [+ tokenizer.json]).")
    Path dir;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors), applied unmerged.")
    Path adapter;

    LanguageModel load(PrintWriter err) {
        long t0 = System.nanoTime();
        LanguageModel lm = LanguageModel.load(dir);
        if (adapter != null) {
            lm = lm.withAdapter(adapter);
        }
        err.printf("loaded %s from %s%s in %.1f s%n", lm.config(), dir,
                adapter == null ? "" : " with adapter " + adapter, (System.nanoTime() - t0) / 1e9);
        err.flush();
        return lm;
    }
}
