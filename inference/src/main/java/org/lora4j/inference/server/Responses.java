package org.lora4j.inference.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.lora4j.inference.generate.FinishReason;

/**
 * The JSON shapes of the OpenAI API that this server answers with: {@code text_completion},
 * {@code chat.completion}, their streamed chunks, {@code usage} and the model list. Every field the official
 * clients treat as required is present (nullable ones as JSON null).
 *
 * @param chat    chat shapes ({@code message} / {@code delta}) rather than completion ones ({@code text})
 * @param id      {@code cmpl-...} or {@code chatcmpl-...}, shared by every chunk of a stream
 * @param created seconds since the epoch
 * @param model   the served name the request asked for
 */
record Responses(boolean chat, String id, long created, String model) {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** The non-streamed answer. {@code tokenIds} is added only for models without a tokenizer (then text is ""). */
    ObjectNode full(String text, FinishReason finish, int promptTokens, int completionTokens, int[] tokenIds) {
        ObjectNode root = header(chat ? "chat.completion" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode msg = choice.putObject("message");
            msg.put("role", "assistant");
            msg.put("content", text);
            msg.putNull("refusal");
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finish.openAiName());
        ids(choice, tokenIds);
        root.set("usage", usage(promptTokens, completionTokens));
        return root;
    }

    /** The first chunk of a chat stream: the assistant role, no text yet. */
    ObjectNode roleChunk() {
        ObjectNode root = header("chat.completion.chunk");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        delta.put("role", "assistant");
        delta.put("content", "");
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return root;
    }

    /** A chunk carrying new text ({@code tokenIds} only for models without a tokenizer). */
    ObjectNode textChunk(String text, int[] tokenIds) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            choice.putObject("delta").put("content", text);
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        ids(choice, tokenIds);
        return root;
    }

    /** The chunk that ends the choice. */
    ObjectNode finishChunk(FinishReason finish) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            choice.putObject("delta");
        } else {
            choice.put("text", "");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finish.openAiName());
        return root;
    }

    /** {@code stream_options.include_usage}: a last chunk with no choices and the token counts. */
    ObjectNode usageChunk(int promptTokens, int completionTokens) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        root.putArray("choices");
        root.set("usage", usage(promptTokens, completionTokens));
        return root;
    }

    static ObjectNode usage(int promptTokens, int completionTokens) {
        ObjectNode u = F.objectNode();
        u.put("prompt_tokens", promptTokens);
        u.put("completion_tokens", completionTokens);
        u.put("total_tokens", promptTokens + completionTokens);
        return u;
    }

    /** {@code GET /v1/models}. */
    static ObjectNode modelList(List<ServedModel> models, String baseId) {
        ObjectNode root = F.objectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (ServedModel m : models) {
            data.add(model(m, baseId));
        }
        return root;
    }

    /** One model object; an adapter's {@code parent} is the base's name (as vLLM reports LoRA adapters). */
    static ObjectNode model(ServedModel m, String baseId) {
        ObjectNode o = F.objectNode();
        o.put("id", m.id());
        o.put("object", "model");
        o.put("created", m.created());
        o.put("owned_by", "lora4j");
        o.put("root", m.id()); // no file paths: they are the server's business
        if (m.kind() == ServedModel.Kind.ADAPTER) {
            o.put("parent", baseId);
        } else {
            o.putNull("parent");
        }
        return o;
    }

    private ObjectNode header(String object) {
        ObjectNode root = F.objectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        return root;
    }

    private static void ids(ObjectNode choice, int[] tokenIds) {
        if (tokenIds != null) {
            ArrayNode a = choice.putArray("token_ids");
            for (int t : tokenIds) {
                a.add(t);
            }
        }
    }
}
