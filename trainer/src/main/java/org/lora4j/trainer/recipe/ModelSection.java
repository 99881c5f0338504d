package org.lora4j.trainer.recipe;

import java.util.List;

/**
 * {@code model:} the base model.
 *
 * @param path  a Hugging Face model folder (config.json, *.safetensors, tokenizer files); required
 * @param dtype the dtype the model is loaded, computed and trained in: float32, or float64 for exact checks
 *              (checkpoints stored as bf16/fp16 are converted on load)
 */
public record ModelSection(String path, String dtype) {

    public static final List<String> DTYPES = List.of("float32", "float64");
    public static final ModelSection DEFAULT = new ModelSection(null, "float32");

    public ModelSection {
        Require.oneOf("model.dtype", dtype, DTYPES);
    }
}
