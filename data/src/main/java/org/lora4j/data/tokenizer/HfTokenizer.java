package org.lora4j.data.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Hugging Face fast tokenizer ({@code tokenizer.json}, run by the Rust tokenizers library through DJL's JNI
 * binding, fully offline) plus its {@code tokenizer_config.json} and chat template.
 *
 * <p>DJL is created with truncation and padding off (DJL otherwise truncates to 512 tokens). Special tokens:
 * {@code encode(text, true)} runs the tokenizer's own post-processor (a {@code TemplateProcessing} one adds BOS/EOS
 * itself; GPT-2-style {@code ByteLevel} ones add nothing). Then, as transformers' Llama/Gemma tokenizers do with
 * {@code add_bos_token}/{@code add_eos_token}: <b>if {@code add_bos_token} is true, the BOS token exists, and the
 * post-processor does not add BOS itself (probed once at load), BOS is prepended</b>; likewise EOS is appended for
 * {@code add_eos_token}. {@code encode(text, false)} never adds anything. Text that already contains special-token
 * text (a rendered chat template) should be encoded with {@code addSpecialTokens=false}.
 *
 * <p>Thread-safe for encode/decode; {@link #close()} frees the native tokenizer.
 */
public final class HfTokenizer implements AutoCloseable {
    public static final String FILE_NAME = "tokenizer.json";

    private final Path modelDir;
    private final HuggingFaceTokenizer djl;
    private final Vocabulary vocab;
    private final TokenizerConfig config;
    private final OptionalInt bosId;
    private final OptionalInt eosId;
    private final boolean postProcessorAddsBos;
    private final boolean postProcessorAddsEos;
    private volatile int[] eosIds;
    private volatile ChatTemplate chatTemplate;

    private HfTokenizer(Path modelDir, HuggingFaceTokenizer djl, Vocabulary vocab, TokenizerConfig config) {
        this.modelDir = modelDir;
        this.djl = djl;
        this.vocab = vocab;
        this.config = config;
        this.bosId = specialId(config.bosToken(), "bos_token");
        this.eosId = specialId(config.eosToken(), "eos_token");
        specialId(config.padToken(), "pad_token");
        long[] probe = djl.encode("a", true, false).getIds();
        this.postProcessorAddsBos = bosId.isPresent() && probe.length > 0 && probe[0] == bosId.getAsInt();
        this.postProcessorAddsEos = eosId.isPresent() && probe.length > 0 && probe[probe.length - 1] == eosId.getAsInt();
        this.eosIds = eosId.isPresent() ? new int[] {eosId.getAsInt()} : new int[0];
    }

    /** Loads {@code modelDir/tokenizer.json} and {@code modelDir/tokenizer_config.json} (optional). */
    public static HfTokenizer load(Path modelDir) {
        return load(modelDir, null);
    }

    /**
     * As {@link #load(Path)}, with {@code chatTemplate} (Jinja source; null = the model's own) replacing the model's
     * chat template. {@code modelDir} may also be the {@code tokenizer.json} file itself.
     */
    public static HfTokenizer load(Path modelDir, String chatTemplate) {
        Path dir = Files.isRegularFile(modelDir) ? modelDir.toAbsolutePath().getParent() : modelDir;
        Path file = Files.isRegularFile(modelDir) ? modelDir : modelDir.resolve(FILE_NAME);
        if (!Files.isDirectory(dir)) {
            throw new TokenizerException("model folder " + dir + " does not exist; expected a folder holding the"
                    + " Hugging Face model files (tokenizer.json, tokenizer_config.json, config.json, ...)");
        }
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException(file + " not found; expected the fast-tokenizer file of a Hugging Face model."
                    + " Found in " + dir + ": " + listing(dir) + ". Fix: copy the model's tokenizer.json there (a model"
                    + " with only tokenizer.model can be converted with transformers:"
                    + " AutoTokenizer.from_pretrained(dir).save_pretrained(dir))");
        }
        Vocabulary vocab = Vocabulary.read(file);
        TokenizerConfig config = TokenizerConfig.load(dir);
        if (chatTemplate != null) config = config.withChatTemplate(chatTemplate);
        HuggingFaceTokenizer tok = openNative(file);
        try {
            return new HfTokenizer(dir, tok, vocab, config);
        } catch (RuntimeException e) {
            tok.close();
            throw e;
        }
    }

    private static HuggingFaceTokenizer openNative(Path file) {
        Map<String, String> options = Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true");
        try (InputStream in = Files.newInputStream(file)) {
            // From a stream, DJL reads no tokenizer_config.json of its own: that file is ours to interpret.
            return HuggingFaceTokenizer.newInstance(in, options);
        } catch (IOException e) {
            throw new TokenizerException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw new TokenizerException("the tokenizers library (DJL " + HuggingFaceTokenizer.class.getPackage()
                    .getImplementationVersion() + ") rejected " + file + ": " + e.getMessage() + ". Expected a"
                    + " tokenizer.json written by Hugging Face tokenizers; a native-library error means DJL could not"
                    + " unpack libtokenizers (it goes to ~/.djl.ai; set DJL_CACHE_DIR to a writable folder)", e);
        }
    }

    private OptionalInt specialId(String token, String key) {
        if (token == null) return OptionalInt.empty();
        Integer id = vocab.ids().get(token);
        if (id == null) {
            throw new TokenizerException(modelDir.resolve(TokenizerConfig.FILE_NAME) + " names " + key + " '" + token
                    + "' but " + modelDir.resolve(FILE_NAME) + " has no such token (vocab size " + vocab.size()
                    + "). Fix " + key + " in tokenizer_config.json or use the matching tokenizer.json");
        }
        return OptionalInt.of(id);
    }

    private static String listing(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            String names = s.map(p -> p.getFileName().toString()).sorted().limit(20).collect(Collectors.joining(", "));
            return names.isEmpty() ? "nothing" : names;
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** Token ids of {@code text}; never truncated. See the class comment for when BOS/EOS are added. */
    public int[] encode(String text, boolean addSpecialTokens) {
        Encoding enc = djl.encode(text, addSpecialTokens, false);
        long[] ids = enc.getIds();
        boolean bos = addSpecialTokens && config.addBosToken() && bosId.isPresent() && !postProcessorAddsBos;
        boolean eos = addSpecialTokens && config.addEosToken() && eosId.isPresent() && !postProcessorAddsEos;
        int off = bos ? 1 : 0;
        int[] out = new int[ids.length + off + (eos ? 1 : 0)];
        if (bos) out[0] = bosId.getAsInt();
        for (int i = 0; i < ids.length; i++) out[i + off] = (int) ids[i];
        if (eos) out[out.length - 1] = eosId.getAsInt();
        return out;
    }

    /** Token ids with the character span {@code [charStart[i], charEnd[i])} of the text that each token covers. */
    public record Encoded(int[] ids, int[] charStart, int[] charEnd) {
        public Encoded {
            if (ids.length != charStart.length || ids.length != charEnd.length) {
                throw new IllegalArgumentException("ids, charStart and charEnd must have one entry per token; got "
                        + ids.length + ", " + charStart.length + ", " + charEnd.length);
            }
        }

        public int size() {
            return ids.length;
        }
    }

    /**
     * Token ids of {@code text} (no special tokens added: text holding special-token text, such as a rendered chat
     * template, yields their ids) with each token's span in {@code text} as Java {@code String} indices (UTF-16 code
     * units), as the tokenizers library reports it: byte-level tokens that cover part of a character's UTF-8 bytes
     * span the whole character, so neighbouring spans may overlap, and with a ByteLevel post-processor set to
     * {@code trim_offsets=true} spans leave out leading/trailing spaces (a lone space token gets an empty span).
     * Never truncated.
     */
    public Encoded encodeWithOffsets(String text) {
        Encoding enc = djl.encode(text, false, false);
        long[] ids = enc.getIds();
        CharSpan[] spans = enc.getCharTokenSpans();
        if (spans.length != ids.length) {
            throw new TokenizerException("the tokenizers library returned " + spans.length + " offsets for " + ids.length
                    + " tokens of a " + text.length() + "-character text; expected one per token");
        }
        int[] out = new int[ids.length];
        int[] start = new int[ids.length];
        int[] end = new int[ids.length];
        int[] utf16 = codePointToUtf16(text);
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
            start[i] = toUtf16(utf16, spans[i].getStart());
            end[i] = toUtf16(utf16, spans[i].getEnd());
        }
        return new Encoded(out, start, end);
    }

    /** {@code utf16[c]} = String index of code point {@code c} (and of the end, at c = code point count). */
    private static int[] codePointToUtf16(String text) {
        int[] utf16 = new int[text.codePointCount(0, text.length()) + 1];
        int c = 0;
        for (int i = 0; i < text.length(); i += Character.charCount(text.codePointAt(i))) utf16[c++] = i;
        utf16[c] = text.length();
        return utf16;
    }

    private static int toUtf16(int[] utf16, int codePoint) {
        if (codePoint < 0 || codePoint >= utf16.length) {
            throw new TokenizerException("the tokenizers library returned offset " + codePoint + " for a text of "
                    + (utf16.length - 1) + " characters; expected 0.." + (utf16.length - 1));
        }
        return utf16[codePoint];
    }

    /** Text of {@code ids}; with {@code skipSpecialTokens}, added tokens marked special are left out. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab.size()) {
                throw new TokenizerException("cannot decode token id " + ids[i] + " at position " + i + ": expected"
                        + " 0 <= id < " + vocab.size() + " (vocab size of " + modelDir.resolve(FILE_NAME) + ")");
            }
            l[i] = ids[i];
        }
        return djl.decode(l, skipSpecialTokens);
    }

    /** One more than the largest id of the model vocab and added tokens (transformers' {@code len(tokenizer)}). */
    public int vocabSize() {
        return vocab.size();
    }

    public OptionalInt tokenToId(String token) {
        Integer id = vocab.ids().get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Token text of {@code id} (byte-level text for GPT-2-style BPE, e.g. "Ġthe"); null for an unused id. */
    public String idToToken(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new TokenizerException("token id " + id + " is out of range: expected 0 <= id < " + vocab.size());
        }
        return vocab.tokens()[id];
    }

    /** Whether {@code id} is an added token marked special (BOS, EOS, chat markers, ...). */
    public boolean isSpecial(int id) {
        return vocab.special().contains(id);
    }

    public TokenizerConfig config() {
        return config;
    }

    public Path modelDir() {
        return modelDir;
    }

    public OptionalInt bosId() {
        return bosId;
    }

    public OptionalInt padId() {
        return config.padToken() == null ? OptionalInt.empty() : tokenToId(config.padToken());
    }

    /** Ids that end generation: the config's {@code eos_token}, then any added with {@link #addEosIds}. */
    public int[] eosIds() {
        return eosIds.clone();
    }

    /** Adds stop ids, e.g. {@code generation_config.json}'s {@code eos_token_id} list or {@code <|eot_id|>}. */
    public synchronized void addEosIds(int... ids) {
        int[] cur = eosIds;
        int[] next = Arrays.copyOf(cur, cur.length + ids.length);
        int n = cur.length;
        for (int id : ids) {
            if (id < 0 || id >= vocab.size()) {
                throw new TokenizerException("eos id " + id + " is out of range: expected 0 <= id < " + vocab.size());
            }
            if (Arrays.stream(next, 0, n).noneMatch(x -> x == id)) next[n++] = id;
        }
        eosIds = Arrays.copyOf(next, n);
    }

    /**
     * The chat template (the override given to {@link #load(Path, String)}, else the model's). Throws
     * {@link TokenizerException} if there is none, {@link ChatTemplateException} if Jinjava cannot compile it.
     */
    public ChatTemplate chatTemplate() {
        ChatTemplate t = chatTemplate;
        if (t == null) {
            if (config.chatTemplate() == null) {
                throw new TokenizerException("the model at " + modelDir + " has no chat template (no chat_template in"
                        + " tokenizer_config.json, no chat_template.jinja): it is probably a base model. Pass one with"
                        + " --chat-template FILE (a Jinja file), or in code HfTokenizer.load(dir, ChatTemplates.LLAMA3"
                        + " | CHATML | MISTRAL)");
            }
            t = ChatTemplate.of(config.chatTemplate(), config.bosToken(), config.eosToken());
            chatTemplate = t;
        }
        return t;
    }

    @Override
    public void close() {
        djl.close();
    }
}
