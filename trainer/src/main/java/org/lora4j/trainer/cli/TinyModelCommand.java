package org.lora4j.trainer.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.tiny.TinyModelGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code lora4j tiny-model}: writes a random, loadable HF model folder for tests and experiments. */
@Command(name = "tiny-model", mixinStandardHelpOptions = true,
        description = "Write a tiny random model folder in Hugging Face layout (config, safetensors, tokenizer, template).",
        footer = {"", "Example:", "  lora4j tiny-model --arch qwen2 --size small --out /tmp/tiny-qwen2 --seed 7"})
public final class TinyModelCommand implements Callable<Integer> {
    enum Arch { llama, mistral, qwen2 }

    enum SizeName { tiny, small }

    enum Storage { float32, bfloat16, float16 }

    @Spec
    CommandSpec spec;

    @Option(names = "--arch", defaultValue = "llama", description = "One of ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
    Arch arch;

    @Option(names = "--size", defaultValue = "tiny", description = "One of ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
    SizeName size;

    @Option(names = "--dtype", defaultValue = "float32", description = "Stored dtype: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
    Storage dtype;

    @Option(names = "--seed", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
    Path out;

    @Override
    public Integer call() {
        Architecture a = Architecture.valueOf(arch.name().toUpperCase());
        TinyModelGenerator.Size s = size == SizeName.tiny ? TinyModelGenerator.Size.TINY : TinyModelGenerator.Size.SMALL;
        DType d = switch (dtype) {
            case float32 -> DType.F32;
            case bfloat16 -> DType.BF16;
            case float16 -> DType.F16;
        };
        ModelConfig c = TinyModelGenerator.write(out, a, s, seed, d);
        spec.commandLine().getOut().println("wrote " + c + " to " + out);
        return 0;
    }
}
