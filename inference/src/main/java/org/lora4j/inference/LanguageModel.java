package org.lora4j.inference;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.data.tokenizer.HfTokenizer;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.Generator;
import org.lora4j.inference.model.AttentionMask;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.LayerWeights;
import org.lora4j.inference.model.Linear;
import org.lora4j.inference.model.WeightLoader;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The runtime's entry point for JVM applications: a Hugging Face model folder loaded as a decoder plus,
 * when the folder has one, its tokenizer, optionally with a LoRA adapter applied unmerged.
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
    private final LoraAdapter adapter;   // null for the plain base

    private LanguageModel(Path dir, Decoder decoder, HfTokenizer tokenizer, LoraAdapter adapter) {
        this.dir = dir;
        this.decoder = decoder;
        this.tokenizer = tokenizer;
        this.adapter = adapter;
    }

    /**
     * The same base with a PEFT adapter applied unmerged (the base weights are shared, not copied). The adapter
     * must fit the base: every adapted module exists with the adapter's in/out features.
     */
    public LanguageModel withAdapter(LoraAdapter lora) {
        PeftAdapterFiles.checkFits(lora, linearShapes(), dir.toString());
        return new LanguageModel(dir, decoder, tokenizer, lora);
    }

    /** Loads a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) onto this base. */
    public LanguageModel withAdapter(Path adapterDir) {
        return withAdapter(PeftAdapterFiles.load(adapterDir, decoder.weights().computeType(),
                w -> System.err.println("warning: " + w)));
    }

    public Optional<LoraAdapter> adapter() {
        return Optional.ofNullable(adapter);
    }

    /** The forward context of this model: the base, or the base with its adapter unmerged. */
    public ForwardContext forwardContext() {
        return adapter == null ? ForwardContext.BASE : ForwardContext.withAdapter(adapter::get);
    }

    /** module path → {out, in} of every linear layer, in model order (lm_head last). */
    public Map<String, int[]> linearShapes() {
        Map<String, int[]> m = new LinkedHashMap<>();
        for (LayerWeights l : decoder.weights().layers()) {
            for (Linear lin : l.linears()) {
                m.put(lin.name(), new int[] {lin.outFeatures(), lin.inFeatures()});
            }
        }
        Linear head = decoder.lmHead();
        m.put(head.name(), new int[] {head.outFeatures(), head.inFeatures()});
        return m;
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
        return new LanguageModel(dir, decoder, tok, null);
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
        return new Generator(decoder, forwardContext()).generate(prompts, cfg,
                tokenizer == null ? null : ids -> tokenizer.decode(ids, true), listener);
    }

    /** Logits {@code [T][V]} of a full forward over {@code ids} (with the adapter, if any). */
    public float[][] logits(int[] ids) {
        int[] pos = new int[ids.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        ForwardContext ctx = forwardContext();
        return decoder.lmHead().forward(decoder.hidden(new int[][] {ids}, new int[][] {pos},
                AttentionMask.causal(), null, ctx), ctx).y().toFloatMatrix();
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
