package org.lora4j.inference;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.lora4j.data.tokenizer.HfTokenizer;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.Generator;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.WeightLoader;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The runtime's entry point for JVM applications: a Hugging Face model folder loaded as a decoder plus,
 * when the folder has one, its tokenizer.
 *
 * <pre>{@code
 * try (LanguageModel lm = LanguageModel.load(Path.of("models/SmolLM2-135M"))) {
 *     String text = lm.complete("The capital of France is", GenerationConfig.greedy(20, lm.eosTokenIds()));
 * }
 * }</pre>
 */
public final class LanguageModel implements AutoCloseable {
    private final Path dir;
    private final Decoder decoder;
    private final HfTokenizer tokenizer; // null when the folder has no tokenizer.json

    private LanguageModel(Path dir, Decoder decoder, HfTokenizer tokenizer) {
        this.dir = dir;
        this.decoder = decoder;
        this.tokenizer = tokenizer;
    }

    /** Loads config.json, the safetensors weights (computed in FP32) and tokenizer.json if present. */
    public static LanguageModel load(Path dir) {
        return load(dir, DataType.FLOAT);
    }

    public static LanguageModel load(Path dir, DataType dtype) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model folder " + dir + " does not exist; pass the folder that holds "
                    + "config.json and *.safetensors (e.g. from `huggingface-cli download <repo> --local-dir DIR`)");
        }
        Decoder decoder = new Decoder(WeightLoader.load(dir, dtype));
        HfTokenizer tok = Files.isRegularFile(dir.resolve("tokenizer.json")) ? HfTokenizer.load(dir) : null;
        return new LanguageModel(dir, decoder, tok);
    }

    public Path dir() {
        return dir;
    }

    public ModelConfig config() {
        return decoder.config();
    }

    public Decoder decoder() {
        return decoder;
    }

    public Optional<HfTokenizer> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /** The tokenizer, or a clear error for folders without tokenizer files. */
    public HfTokenizer requireTokenizer(String why) {
        if (tokenizer == null) {
            throw new IllegalArgumentException(dir + " has no tokenizer.json, so " + why + " is not possible; "
                    + "pass token ids instead (--prompt-ids 1,2,3) or copy the model's tokenizer files into the folder");
        }
        return tokenizer;
    }

    /** Every id that ends generation: config.json's eos_token_id plus the tokenizer's eos token. */
    public int[] eosTokenIds() {
        IntStream ids = IntStream.of(decoder.config().eosTokenIds());
        if (tokenizer != null) {
            ids = IntStream.concat(ids, IntStream.of(tokenizer.eosIds()));
        }
        return ids.distinct().toArray();
    }

    public List<Generation> generate(List<int[]> prompts, GenerationConfig cfg, Generator.TokenListener listener) {
        return new Generator(decoder).generate(prompts, cfg,
                tokenizer == null ? null : ids -> tokenizer.decode(ids, true), listener);
    }

    /** Tokenizes {@code prompt} (with the tokenizer's special tokens) and returns the generated text. */
    public String complete(String prompt, GenerationConfig cfg) {
        int[] ids = requireTokenizer("text generation").encode(prompt, true);
        return generate(List.of(ids), cfg, null).get(0).text();
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
