package org.lora4j.inference.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.lora4j.data.tokenizer.ChatMessage;

/**
 * A {@code POST /v1/chat/completions} body: {@code model}, {@code messages} (rendered with the model's chat template,
 * as {@code generate --chat}) and the {@link SamplingParams}. A message's {@code content} is a string or an array of
 * {@code {"type": "text", "text": ...}} parts (joined); {@code developer} messages are passed as {@code system}.
 */
record ChatRequest(String model, List<ChatMessage> messages, SamplingParams params) {

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    static ChatRequest parse(JsonFields f) {
        String model = f.requiredString("model");
        JsonNode msgs = f.get("messages");
        if (msgs == null) {
            throw ApiException.badRequest("missing required field 'messages'", "messages");
        }
        if (!msgs.isArray()) {
            throw f.wrongType("messages", "an array of {\"role\", \"content\"} objects", msgs);
        }
        if (msgs.isEmpty()) {
            throw ApiException.invalidValue("'messages' is empty; give at least one message", "messages");
        }
        List<ChatMessage> out = new ArrayList<>(msgs.size());
        for (int i = 0; i < msgs.size(); i++) {
            out.add(message(msgs.get(i), "messages[" + i + "]"));
        }
        return new ChatRequest(model, out, SamplingParams.parse(f, true));
    }

    private static ChatMessage message(JsonNode m, String where) {
        if (!m.isObject()) {
            throw ApiException.invalidValue("'" + where + "' must be an object with \"role\" and \"content\", "
                    + "found " + JsonFields.typeOf(m), "messages");
        }
        JsonFields f = new JsonFields((ObjectNode) m, where + ".");
        String role = f.requiredString("role");
        if (!ROLES.contains(role)) {
            throw ApiException.invalidValue("'" + where + ".role' is '" + role + "'; expected one of system, "
                    + "developer, user, assistant, tool", "messages");
        }
        JsonNode c = f.get("content");
        String content;
        if (c == null) {
            if (!role.equals("assistant")) {
                throw ApiException.badRequest("missing required field '" + where + ".content'", "messages");
            }
            content = "";
        } else if (c.isTextual()) {
            content = c.textValue();
        } else if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < c.size(); i++) {
                JsonNode part = c.get(i);
                String p = where + ".content[" + i + "]";
                if (!part.isObject() || !"text".equals(part.path("type").asText(null))
                        || !part.path("text").isTextual()) {
                    throw ApiException.invalidValue("'" + p + "' must be {\"type\": \"text\", \"text\": \"...\"}; "
                            + "this server reads text only", "messages");
                }
                sb.append(part.get("text").textValue());
            }
            content = sb.toString();
        } else {
            throw f.wrongType("content", "a string or an array of text parts", c);
        }
        return new ChatMessage(role.equals("developer") ? "system" : role, content);
    }
}
