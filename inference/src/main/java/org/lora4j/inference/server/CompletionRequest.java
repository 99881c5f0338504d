package org.lora4j.inference.server;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A {@code POST /v1/completions} body: {@code model}, {@code prompt} (a string, or token ids; one prompt per
 * request) and the {@link SamplingParams}.
 */
record CompletionRequest(String model, Prompt prompt, SamplingParams params) {

    /** The prompt as text (tokenized with special tokens, as {@code generate --prompt}) or as token ids. */
    sealed interface Prompt permits Text, Ids {
    }

    record Text(String text) implements Prompt {
    }

    record Ids(int[] ids) implements Prompt {
    }

    static CompletionRequest parse(JsonFields f) {
        String model = f.requiredString("model");
        JsonNode p = f.get("prompt");
        if (p == null) {
            throw ApiException.badRequest("missing required field 'prompt'", "prompt");
        }
        return new CompletionRequest(model, prompt(p, f), SamplingParams.parse(f, false));
    }

    /** "text", ["text"], [1, 2, 3] or [[1, 2, 3]]. */
    private static Prompt prompt(JsonNode p, JsonFields f) {
        if (p.isTextual()) {
            return new Text(p.textValue());
        }
        if (!p.isArray()) {
            throw f.wrongType("prompt", "a string, an array of token ids, or a one-element array of either", p);
        }
        if (p.isEmpty()) {
            throw ApiException.invalidValue("'prompt' is an empty array; give a string or token ids", "prompt");
        }
        JsonNode first = p.get(0);
        if (first.isIntegralNumber()) {
            return new Ids(ids(p, "prompt"));
        }
        if (p.size() > 1) {
            throw ApiException.invalidValue("'prompt' holds " + p.size() + " prompts; this server takes one prompt "
                    + "per request (n = 1): send one request per prompt", "prompt");
        }
        if (first.isTextual()) {
            return new Text(first.textValue());
        }
        if (first.isArray()) {
            return new Ids(ids(first, "prompt[0]"));
        }
        throw ApiException.invalidValue("'prompt[0]' must be a string or an array of token ids, found "
                + JsonFields.typeOf(first), "prompt");
    }

    private static int[] ids(JsonNode a, String param) {
        if (a.isEmpty()) {
            throw ApiException.invalidValue("'" + param + "' is empty; give at least one token id", "prompt");
        }
        int[] ids = new int[a.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode v = a.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
                throw ApiException.invalidValue("'" + param + "[" + i + "]' must be a token id (an integer >= 0), "
                        + "found " + v, "prompt");
            }
            ids[i] = v.intValue();
        }
        return ids;
    }
}
