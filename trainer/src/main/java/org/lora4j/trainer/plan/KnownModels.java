package org.lora4j.trainer.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.lora4j.inference.config.ModelConfig;

/**
 * The {@code config.json} values of the models the shipped recipes train, so that {@code lora4j plan} can size a
 * run before the model is downloaded. Only the keys {@link ModelConfig} reads are copied, from each repository's
 * config.json on the Hugging Face Hub. A model folder is matched by its name: the shipped recipes download
 * {@code Org/Name} into {@code models/Name}.
 */
public final class KnownModels {

    /** A Hub repository and its config.json (the keys lora4j reads). */
    public record KnownModel(String repo, String configJson) {
        /** The folder name the shipped recipes download into: the repository's name without the organisation. */
        public String folderName() {
            return repo.substring(repo.indexOf('/') + 1);
        }

        public ModelConfig config() {
            try {
                return ModelConfig.parse(JSON.readTree(configJson), "lora4j's built-in config.json of " + repo);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("built-in config of " + repo + " is not valid JSON", e);
            }
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    public static final List<KnownModel> ALL = List.of(
            new KnownModel("HuggingFaceTB/SmolLM2-135M-Instruct", """
                    {"architectures": ["LlamaForCausalLM"], "hidden_size": 576, "intermediate_size": 1536,
                     "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "head_dim": 64,
                     "hidden_act": "silu", "rms_norm_eps": 1e-05, "rope_theta": 100000, "rope_scaling": null,
                     "max_position_embeddings": 8192, "tie_word_embeddings": true, "attention_bias": false,
                     "vocab_size": 49152, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"}"""),
            new KnownModel("Qwen/Qwen2.5-0.5B-Instruct", """
                    {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 896, "intermediate_size": 4864,
                     "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
                     "hidden_act": "silu", "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
                     "max_position_embeddings": 32768, "tie_word_embeddings": true, "use_sliding_window": false,
                     "sliding_window": 32768, "max_window_layers": 21, "vocab_size": 151936,
                     "bos_token_id": 151643, "eos_token_id": 151645, "torch_dtype": "bfloat16"}"""),
            new KnownModel("meta-llama/Llama-3.2-1B-Instruct", """
                    {"architectures": ["LlamaForCausalLM"], "hidden_size": 2048, "intermediate_size": 8192,
                     "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64,
                     "hidden_act": "silu", "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
                     "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                     "max_position_embeddings": 131072, "tie_word_embeddings": true, "attention_bias": false,
                     "vocab_size": 128256, "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
                     "torch_dtype": "bfloat16"}"""),
            new KnownModel("meta-llama/Llama-3.1-8B-Instruct", """
                    {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
                     "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
                     "hidden_act": "silu", "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
                     "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                     "max_position_embeddings": 131072, "tie_word_embeddings": false, "attention_bias": false,
                     "vocab_size": 128256, "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
                     "torch_dtype": "bfloat16"}"""),
            new KnownModel("mistralai/Mistral-7B-Instruct-v0.3", """
                    {"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
                     "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
                     "hidden_act": "silu", "rms_norm_eps": 1e-05, "rope_theta": 1000000.0,
                     "max_position_embeddings": 32768, "sliding_window": null, "tie_word_embeddings": false,
                     "vocab_size": 32768, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"}"""));

    private KnownModels() {
    }

    /** The known model whose folder name is the last component of {@code modelDir} (case-insensitive). */
    public static Optional<KnownModel> forFolder(Path modelDir) {
        Path name = modelDir.toAbsolutePath().normalize().getFileName();
        if (name == null) {
            return Optional.empty();
        }
        String n = name.toString().toLowerCase(Locale.ROOT);
        return ALL.stream().filter(k -> k.folderName().toLowerCase(Locale.ROOT).equals(n)).findFirst();
    }

    /** "SmolLM2-135M-Instruct, Qwen2.5-0.5B-Instruct, ...". */
    public static String folderNames() {
        return String.join(", ", ALL.stream().map(KnownModel::folderName).toList());
    }
}
