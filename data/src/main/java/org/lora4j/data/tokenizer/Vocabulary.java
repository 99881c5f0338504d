package org.lora4j.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Token/id tables of a Hugging Face {@code tokenizer.json} (tokenizers' serialization, version 1.0): the model's
 * {@code vocab} ({@code {token: id}} for BPE/WordPiece/WordLevel, {@code [[piece, score], ...]} for Unigram) plus
 * {@code added_tokens}. DJL exposes no vocabulary lookup, so it is read here with Jackson.
 *
 * @param ids     token text to id
 * @param tokens  id to token text; null where no token has that id
 * @param special ids of added tokens marked {@code "special": true}
 */
record Vocabulary(Map<String, Integer> ids, String[] tokens, Set<Integer> special) {
    private static final ObjectMapper JSON = new ObjectMapper();

    int size() {
        return tokens.length;
    }

    static Vocabulary read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException(file + " is not valid JSON (" + e.getMessage().lines().findFirst().orElse("")
                    + "); expected a Hugging Face tokenizers file as written by tokenizer.save(). Fix: re-copy the"
                    + " model's tokenizer.json", e);
        }
        JsonNode model = root == null ? null : root.get("model");
        if (model == null || !model.isObject()) {
            throw new TokenizerException(file + " has no \"model\" object; expected a Hugging Face tokenizers file"
                    + " (keys version, added_tokens, normalizer, pre_tokenizer, model, ...). Found keys: "
                    + (root == null || !root.isObject() ? "none" : fieldNames(root)));
        }
        Map<String, Integer> ids = new HashMap<>();
        JsonNode vocab = model.path("vocab");
        if (vocab.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                ids.put(e.getKey(), nonNegative(file, "model.vocab[\"" + e.getKey() + "\"]", e.getValue()));
            }
        } else if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) ids.putIfAbsent(vocab.get(i).path(0).asText(), i);
        } else {
            throw new TokenizerException(file + ": model.vocab is missing or neither an object nor an array (model"
                    + " type " + model.path("type").asText("?") + "); expected {token: id} or [[piece, score], ...]");
        }
        Set<Integer> special = new HashSet<>();
        Map<String, Integer> added = new HashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asText(null);
            if (content == null) {
                throw new TokenizerException(file + ": an added_tokens entry has no \"content\" string: " + t);
            }
            int id = nonNegative(file, "added_tokens \"" + content + "\" id", t.get("id"));
            ids.put(content, id);
            added.put(content, id);
            if (t.path("special").asBoolean(false)) special.add(id);
        }
        int max = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        String[] tokens = new String[max + 1];
        for (Map.Entry<String, Integer> e : ids.entrySet()) tokens[e.getValue()] = e.getKey();
        // An added token may share its id with a model-vocab entry of other text: the added token wins, as in HF.
        for (Map.Entry<String, Integer> e : added.entrySet()) tokens[e.getValue()] = e.getKey();
        return new Vocabulary(Map.copyOf(ids), tokens, Set.copyOf(special));
    }

    private static int nonNegative(Path file, String what, JsonNode n) {
        if (n == null || !n.canConvertToInt() || n.asInt() < 0) {
            throw new TokenizerException(file + ": " + what + " must be a non-negative int; found " + n);
        }
        return n.asInt();
    }

    private static String fieldNames(JsonNode n) {
        StringBuilder sb = new StringBuilder();
        n.fieldNames().forEachRemaining(k -> sb.append(sb.length() == 0 ? "" : ", ").append(k));
        return sb.length() == 0 ? "none" : sb.toString();
    }
}
