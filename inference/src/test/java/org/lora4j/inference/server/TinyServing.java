package org.lora4j.inference.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.LoraInit;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The files every server test shares, written once per test JVM: a tiny Llama folder (HF layout, BPE tokenizer,
 * Llama 3 chat template) and two PEFT adapters for it with random, non-zero B (so that each changes the output),
 * under one adapter root. Also the reference: what {@code lora4j generate --model BASE [--adapter DIR] --chat ...}
 * computes, i.e. {@link LanguageModel#withAdapter} + the chat template + {@link LanguageModel#generate}.
 */
final class TinyServing {
    static final String BASE = "tiny";
    static final String ALPHA = "alpha";
    static final String BETA = "beta";

    private static TinyServing shared;

    final Path root;
    final Path model;
    final Path adapterRoot;
    final Path alpha;
    final Path beta;

    private TinyServing(Path root) {
        this.root = root;
        this.model = root.resolve("model");
        this.adapterRoot = root.resolve("adapters");
        this.alpha = adapterRoot.resolve(ALPHA);
        this.beta = adapterRoot.resolve(BETA);
        TinyModelGenerator.write(model, Architecture.LLAMA, TinyModelGenerator.Size.TINY, 7, DType.F32);
        try (LanguageModel lm = LanguageModel.load(model)) {
            LoraConfig cfg = LoraConfig.of(4, 8, TargetModules.Names.of("q_proj", "k_proj", "v_proj", "o_proj",
                    "gate_proj", "up_proj", "down_proj")).withInit(LoraInit.RANDOM);
            PeftAdapterFiles.save(alpha, LoraAdapter.init(cfg, lm.linearShapes(), 11, DataType.FLOAT));
            PeftAdapterFiles.save(beta, LoraAdapter.init(cfg, lm.linearShapes(), 12, DataType.FLOAT));
        }
    }

    static synchronized TinyServing get() {
        if (shared == null) {
            try {
                Path dir = Files.createTempDirectory("lora4j-server-test");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
                shared = new TinyServing(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return shared;
    }

    /** A runtime serving the base as {@link #BASE} with both adapters attached. */
    ServingRuntime runtime(Scheduler.Options options) {
        ServingRuntime rt = ServingRuntime.open(LanguageModel.load(model), BASE, options);
        rt.adapters().load(ALPHA, alpha);
        rt.adapters().load(BETA, beta);
        return rt;
    }

    /** The adapter folder of a served name, or null for the base. */
    Path adapterDir(String name) {
        return switch (name) {
            case ALPHA -> alpha;
            case BETA -> beta;
            default -> null;
        };
    }

    /** What {@code lora4j generate --chat USER [--adapter DIR] --seed S ...} generates, computed alone. */
    Generation reference(LanguageModel base, String name, List<ChatMessage> chat, int maxNew, double temperature,
                         double topP, long seed, List<String> stops) {
        LanguageModel lm = adapterDir(name) == null ? base : base.withAdapter(adapterDir(name));
        String rendered = lm.requireTokenizer("chat").chatTemplate().render(chat, true);
        int[] ids = lm.requireTokenizer("chat").encode(rendered, false);
        GenerationConfig cfg = new GenerationConfig(maxNew, temperature, 0, topP, 1.0, seed, stops,
                lm.eosTokenIds());
        return lm.generate(List.of(ids), cfg, null).get(0);
    }

    /** As {@link #reference} for a raw text prompt ({@code lora4j generate --prompt TEXT}). */
    Generation referenceText(LanguageModel base, String name, String prompt, int maxNew, double temperature,
                             double topP, long seed) {
        LanguageModel lm = adapterDir(name) == null ? base : base.withAdapter(adapterDir(name));
        int[] ids = lm.requireTokenizer("prompt").encode(prompt, true);
        GenerationConfig cfg = new GenerationConfig(maxNew, temperature, 0, topP, 1.0, seed, List.of(),
                lm.eosTokenIds());
        return lm.generate(List.of(ids), cfg, null).get(0);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at exit
        }
    }
}
