package org.lora4j.inference.server;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.IntConsumer;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.data.tokenizer.HfTokenizer;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;

/**
 * Multi-adapter serving as a Java library: one base model, adapters attached and detached at run time (unmerged,
 * sharing the base weights), and a {@link Scheduler} that decodes requests for the base and any of its adapters
 * together in one batch, each row with its own adapter. {@link OpenAiServer} puts HTTP in front of it; a JVM
 * application can use it directly:
 *
 * <pre>{@code
 * try (ServingRuntime rt = ServingRuntime.open(LanguageModel.load(Path.of("models/smollm2")), "smollm2",
 *         Scheduler.Options.DEFAULT)) {
 *     rt.adapters().load("sql", Path.of("runs/sql/adapter"));          // shares the base weights
 *     int[] prompt = rt.encodeChat(List.of(ChatMessage.user("List the tables.")));
 *     GenerationConfig cfg = new GenerationConfig(64, 0.7, 0, 0.95, 1.0, 42, List.of(), rt.eosTokenIds());
 *     Generation g = rt.generate("sql", prompt, cfg);                   // blocking
 *     Job j = rt.submit("smollm2", prompt, cfg, tokenId -> { });        // streaming callback on a worker thread
 *     String text = j.await().text();                                   // or j.cancel()
 * }
 * }</pre>
 */
public final class ServingRuntime implements AutoCloseable {
    private final LanguageModel base;
    private final AdapterRegistry registry;
    private final Scheduler scheduler;

    private ServingRuntime(LanguageModel base, ServedModel served, Scheduler.Options options) {
        this.base = base;
        this.registry = new AdapterRegistry(served, w -> System.err.println("warning: " + w));
        HfTokenizer tok = base.tokenizer().orElse(null);
        this.scheduler = new Scheduler(options, tok == null ? null : ids -> tok.decode(ids, true));
    }

    /** Serves {@code base} under {@code baseName}; attach adapters with {@link #adapters()}. Takes ownership. */
    public static ServingRuntime open(LanguageModel base, String baseName, Scheduler.Options options) {
        AdapterRegistry.checkName(baseName);
        return new ServingRuntime(base, new ServedModel(baseName, base, null, ServedModel.Kind.BASE,
                Instant.now().getEpochSecond()), options);
    }

    /**
     * Merges {@code adapter} into {@code base}'s weights in place and serves the result, alone, as {@code name}
     * (full base speed; no other adapter can be attached). Takes ownership of {@code base}.
     */
    public static ServingRuntime merged(LanguageModel base, String name, LoraAdapter adapter, Path source,
                                        Scheduler.Options options) {
        AdapterRegistry.checkName(name);
        InPlaceMerge.merge(base, adapter);
        return new ServingRuntime(base, new ServedModel(name, base, source, ServedModel.Kind.MERGED,
                Instant.now().getEpochSecond()), options);
    }

    public AdapterRegistry adapters() {
        return registry;
    }

    public Scheduler.Stats stats() {
        return scheduler.stats();
    }

    /** The base model as loaded (merged with {@code merged}). */
    public LanguageModel base() {
        return base;
    }

    /** Prompt plus new tokens may not exceed this ({@code max_position_embeddings}). */
    public int contextLength() {
        return base.config().maxPositionEmbeddings();
    }

    /** Ids that end generation: config.json's and the tokenizer's eos. */
    public int[] eosTokenIds() {
        return base.eosTokenIds();
    }

    public Optional<HfTokenizer> tokenizer() {
        return base.tokenizer();
    }

    /** Text → ids with the tokenizer's special tokens (BOS where the model adds one), as {@code generate --prompt}. */
    public int[] encode(String text) {
        return base.requireTokenizer("a text prompt").encode(text, true);
    }

    /** A conversation rendered with the model's chat template (generation prompt added) → ids, as {@code --chat}. */
    public int[] encodeChat(List<ChatMessage> messages) {
        HfTokenizer tok = base.requireTokenizer("a chat conversation");
        return tok.encode(tok.chatTemplate().render(messages, true), false);
    }

    /** Ids → text without special tokens. */
    public String decode(int[] ids) {
        return base.requireTokenizer("decoding").decode(ids, true);
    }

    /**
     * Queues a generation for {@code model} (the base's name or an adapter's); {@code onToken} (may be null) is
     * called on a worker thread with every accepted token.
     *
     * @throws UnknownModelException    no such model
     * @throws IllegalArgumentException an empty prompt, an id outside the vocabulary, or prompt + max new tokens
     *                                  longer than the context
     * @throws JobRejectedException     the wait queue is full, or the runtime is closing
     */
    public Job submit(String model, int[] prompt, GenerationConfig config, IntConsumer onToken) {
        return submit(registry.resolve(model), prompt, config, onToken);
    }

    /** As {@link #submit(String, int[], GenerationConfig, IntConsumer)} for a model already resolved. */
    public Job submit(ServedModel model, int[] prompt, GenerationConfig config, IntConsumer onToken) {
        checkPrompt(prompt, config.maxNewTokens());
        if (!config.stopStrings().isEmpty() && base.tokenizer().isEmpty()) {
            throw new IllegalArgumentException("stop strings need a tokenizer to decode the text; " + base.dir()
                    + " has no tokenizer.json (stop on eos ids instead)");
        }
        return scheduler.submit(model, prompt, config, onToken);
    }

    /** {@link #submit} and wait. */
    public Generation generate(String model, int[] prompt, GenerationConfig config) {
        return submit(model, prompt, config, null).await();
    }

    private void checkPrompt(int[] prompt, int maxNewTokens) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty; give at least one token");
        }
        int vocab = base.config().vocabSize();
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= vocab) {
                throw new IllegalArgumentException("prompt token " + i + " is " + prompt[i] + ", outside the "
                        + "vocabulary [0, " + vocab + ")");
            }
        }
        if ((long) prompt.length + maxNewTokens > contextLength()) {
            throw new IllegalArgumentException("this model's context is " + contextLength() + " tokens, but "
                    + (prompt.length + maxNewTokens) + " were requested (" + prompt.length + " in the prompt, "
                    + maxNewTokens + " to generate); shorten the prompt or lower max_tokens");
        }
    }

    /** Refuses new requests, finishes the running and waiting ones, then frees the base. */
    @Override
    public void close() {
        scheduler.close();
        base.close();
    }

    /** Refuses new requests; running and waiting ones go on (see {@link #close()}). */
    public void shutdown() {
        scheduler.shutdown();
    }
}
