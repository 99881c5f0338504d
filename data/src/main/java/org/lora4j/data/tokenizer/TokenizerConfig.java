package org.lora4j.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a Hugging Face {@code tokenizer_config.json} that tokenization and chat formatting need
 * (transformers' {@code PreTrainedTokenizerBase} reads the same keys).
 *
 * <ul>
 *   <li>{@code bos_token}, {@code eos_token}, {@code pad_token}, {@code unk_token}: a string, or an AddedToken
 *       object {@code {"content": "...", "lstrip": ..., ...}}, or null/absent.</li>
 *   <li>{@code add_bos_token}, {@code add_eos_token}: booleans, false when absent.</li>
 *   <li>{@code chat_template}: a string, or a list of {@code {"name", "template"}} of which the one named
 *       {@code "default"} is taken. When absent, a {@code chat_template.jinja} file or a {@code chat_template.json}
 *       ({@code {"chat_template": "..."}}) beside it is used, as newer transformers versions save it there.</li>
 *   <li>{@code model_max_length}: -1 when absent or larger than an int (transformers writes 1e30 for "no limit").</li>
 * </ul>
 */
public record TokenizerConfig(String bosToken, String eosToken, String padToken, String unkToken,
                              boolean addBosToken, boolean addEosToken, String chatTemplate, int modelMaxLength) {
    public static final String FILE_NAME = "tokenizer_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** No special tokens, nothing added, no chat template, no length limit. */
    public static TokenizerConfig defaults() {
        return new TokenizerConfig(null, null, null, null, false, false, null, -1);
    }

    /** The same configuration with another chat template (null = none). */
    public TokenizerConfig withChatTemplate(String template) {
        return new TokenizerConfig(bosToken, eosToken, padToken, unkToken, addBosToken, addEosToken, template,
                modelMaxLength);
    }

    /** Reads {@code modelDir/tokenizer_config.json}; a missing file gives {@link #defaults()}. */
    public static TokenizerConfig load(Path modelDir) {
        Path file = modelDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return defaults().withChatTemplate(sideChatTemplate(modelDir));
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException(file + " is not valid JSON (" + e.getMessage().lines().findFirst().orElse("")
                    + "); expected the tokenizer_config.json saved by transformers' tokenizer.save_pretrained()", e);
        }
        if (root == null || !root.isObject()) {
            throw new TokenizerException(file + " must hold a JSON object; found "
                    + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase()));
        }
        String template = chatTemplate(file, root.get("chat_template"));
        if (template == null) template = sideChatTemplate(modelDir);
        return new TokenizerConfig(
                token(file, root, "bos_token"), token(file, root, "eos_token"),
                token(file, root, "pad_token"), token(file, root, "unk_token"),
                bool(file, root, "add_bos_token"), bool(file, root, "add_eos_token"),
                template, maxLength(root.get("model_max_length")));
    }

    private static String token(Path file, JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.asText();
        if (n.isObject() && n.path("content").isTextual()) return n.get("content").asText();
        throw new TokenizerException(file + ": " + key + " must be a string or an AddedToken object with a \"content\""
                + " string; found " + n + ". Fix the file or remove the key");
    }

    private static boolean bool(Path file, JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return false;
        if (n.isBoolean()) return n.asBoolean();
        throw new TokenizerException(file + ": " + key + " must be true or false; found " + n);
    }

    private static int maxLength(JsonNode n) {
        if (n == null || !n.isNumber()) return -1;
        BigInteger v = n.isIntegralNumber() ? n.bigIntegerValue() : n.decimalValue().toBigInteger();
        return v.signum() > 0 && v.bitLength() < 32 ? v.intValue() : -1;
    }

    private static String chatTemplate(Path file, JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.asText();
        if (n.isArray()) {
            List<String> names = new ArrayList<>();
            for (JsonNode entry : n) {
                String name = entry.path("name").asText(null);
                names.add(name);
                if ("default".equals(name) && entry.path("template").isTextual()) return entry.get("template").asText();
            }
            throw new TokenizerException(file + ": chat_template is a list of named templates " + names
                    + " without one named \"default\"; pass the one you want with --chat-template FILE");
        }
        throw new TokenizerException(file + ": chat_template must be a string or a list of {\"name\", \"template\"}"
                + " objects; found " + n.getNodeType().toString().toLowerCase());
    }

    /** {@code chat_template.jinja} or {@code chat_template.json} beside the config (transformers >= 4.43). */
    private static String sideChatTemplate(Path modelDir) {
        try {
            Path jinja = modelDir.resolve("chat_template.jinja");
            if (Files.isRegularFile(jinja)) return Files.readString(jinja);
            Path json = modelDir.resolve("chat_template.json");
            if (Files.isRegularFile(json)) {
                JsonNode t = JSON.readTree(json.toFile()).path("chat_template");
                if (!t.isTextual()) {
                    throw new TokenizerException(json + " must hold {\"chat_template\": \"...\"}; found no such string");
                }
                return t.asText();
            }
            return null;
        } catch (IOException e) {
            throw new TokenizerException("cannot read the chat template beside " + modelDir + ": " + e.getMessage(), e);
        }
    }
}
