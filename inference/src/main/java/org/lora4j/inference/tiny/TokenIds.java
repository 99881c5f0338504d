package org.lora4j.inference.tiny;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Token → id of a tokenizer.json (model vocab plus added tokens), read without loading the native tokenizer. */
final class TokenIds {
    private TokenIds() {
    }

    static Map<String, Integer> read(Path tokenizerJson) throws IOException {
        JsonNode root = new ObjectMapper().readTree(tokenizerJson.toFile());
        Map<String, Integer> ids = new HashMap<>();
        root.path("model").path("vocab").fields().forEachRemaining(e -> ids.put(e.getKey(), e.getValue().asInt()));
        root.path("added_tokens").forEach(t -> ids.put(t.path("content").asText(), t.path("id").asInt()));
        return ids;
    }
}
