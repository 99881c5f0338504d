package org.lora4j.inference.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Server-Sent Events as the OpenAI API streams them (WHATWG HTML, "Server-sent events"): a 200 with
 * {@code text/event-stream}, then one {@code data: <json>} event per chunk, flushed at once, and a final
 * {@code data: [DONE]}. An {@link IOException} from a write means the client has gone.
 */
final class SseWriter {
    private final OutputStream out;

    SseWriter(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        exchange.getResponseHeaders().set("X-Accel-Buffering", "no");
        exchange.sendResponseHeaders(200, 0); // chunked
        this.out = exchange.getResponseBody();
    }

    void event(JsonNode data) throws IOException {
        write("data: " + JsonFields.MAPPER.writeValueAsString(data) + "\n\n");
    }

    void done() throws IOException {
        write("data: [DONE]\n\n");
    }

    private void write(String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
