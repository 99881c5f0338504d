package org.lora4j.data.format;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.lora4j.data.format.DataFormat.Columns;
import org.lora4j.data.tokenizer.ChatMessage;

/**
 * Reads the conversation of a {@code messages} row (OpenAI / HF: {@code [{role, content}, ...]}) or a
 * {@code conversations} row (ShareGPT: {@code [{from, value}, ...]}, from = human | gpt | system) into
 * {@link ChatMessage}s. A null content reads as "".
 */
final class ChatRows {
    private ChatRows() {}

    static List<ChatMessage> messages(Map<String, Object> row, String where) {
        List<ChatMessage> out = new ArrayList<>();
        List<Map<?, ?>> turns = turns(row, Columns.MESSAGES, where);
        for (int i = 0; i < turns.size(); i++) {
            Map<?, ?> t = turns.get(i);
            String at = where + " " + Columns.MESSAGES + "[" + i + "]";
            out.add(new ChatMessage(string(t, "role", at, false), string(t, "content", at, true)));
        }
        return out;
    }

    static List<ChatMessage> conversations(Map<String, Object> row, String where) {
        List<ChatMessage> out = new ArrayList<>();
        List<Map<?, ?>> turns = turns(row, Columns.CONVERSATIONS, where);
        for (int i = 0; i < turns.size(); i++) {
            Map<?, ?> t = turns.get(i);
            String at = where + " " + Columns.CONVERSATIONS + "[" + i + "]";
            String from = string(t, "from", at, false);
            String role = switch (from) {
                case "human", "user" -> "user";
                case "gpt", "assistant" -> "assistant";
                case "system" -> "system";
                default -> throw new IllegalArgumentException(at + " has from='" + from + "'; expected human, gpt or"
                        + " system (ShareGPT), or user / assistant. Fix: map the speaker names before training, or"
                        + " convert the dataset to the messages format");
            };
            out.add(new ChatMessage(role, string(t, "value", at, true)));
        }
        return out;
    }

    private static List<Map<?, ?>> turns(Map<String, Object> row, String column, String where) {
        if (!row.containsKey(column)) {
            throw new IllegalArgumentException(where + " has no '" + column + "' column; columns: " + row.keySet());
        }
        Object v = row.get(column);
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException(where + ": column '" + column + "' must hold a list of turns; found "
                    + (v == null ? "null" : "a " + v.getClass().getSimpleName() + ": " + abbreviate(String.valueOf(v))));
        }
        List<Map<?, ?>> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException(where + " " + column + "[" + i + "] must be an object (a struct);"
                        + " found " + (list.get(i) == null ? "null" : abbreviate(String.valueOf(list.get(i)))));
            }
            out.add(m);
        }
        return out;
    }

    private static String string(Map<?, ?> turn, String key, String at, boolean nullable) {
        Object v = turn.get(key);
        if (v instanceof String s) return s;
        if (v == null && nullable) return "";
        throw new IllegalArgumentException(at + "." + key + " must be a string; found "
                + (v == null ? (turn.containsKey(key) ? "null" : "no such field (fields: " + turn.keySet() + ")")
                        : "a " + v.getClass().getSimpleName() + ": " + abbreviate(String.valueOf(v)))
                + (v instanceof List<?> ? ". Content given as a list of parts (multimodal) is not supported; join"
                        + " the text parts into one string" : ""));
    }

    static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 197) + "...";
    }
}
