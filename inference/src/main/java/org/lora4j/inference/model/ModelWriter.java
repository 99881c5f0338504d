package org.lora4j.inference.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.adapters.safetensors.SafetensorsWriter;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Saves weights (e.g. after full-parameter training) as a complete HF model folder: config.json and the tokenizer
 * files copied from the folder the model was loaded from, and one model.safetensors (FP32, HF names, tied
 * embeddings stored once, as HF does). Every file is written atomically.
 */
public final class ModelWriter {
    private static final List<String> COPIED = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja");

    private ModelWriter() {
    }

    public static void save(Path outDir, ModelWeights w, Path sourceDir) {
        try {
            Files.createDirectories(outDir);
            for (String f : COPIED) {
                Path src = sourceDir.resolve(f);
                if (Files.isRegularFile(src) && !src.toAbsolutePath().equals(outDir.resolve(f).toAbsolutePath())) {
                    Path tmp = Files.createTempFile(outDir, "." + f, ".tmp");
                    Files.copy(src, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(tmp, outDir.resolve(f), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
            }
            List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
            BaseParameters.tensors(w).forEach((name, value) -> tensors.add(new SafetensorsWriter.Tensor(name, DType.F32,
                    value.shape(), () -> value.castTo(DataType.FLOAT).dup('c').reshape(value.length()).toFloatVector())));
            SafetensorsWriter.write(outDir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the model to " + outDir, e);
        }
    }
}
