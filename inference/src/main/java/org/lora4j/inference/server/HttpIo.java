package org.lora4j.inference.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Reading a bounded request body and writing JSON responses over the JDK's {@code HttpExchange}. */
final class HttpIo {
    private HttpIo() {
    }

    /** The whole body, refused with a 413 past {@code limit} bytes (checked before and while reading). */
    static byte[] readBody(HttpExchange ex, int limit) throws IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            try {
                if (Long.parseLong(declared.trim()) > limit) {
                    throw ApiException.tooLarge(limit);
                }
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("Content-Length '" + declared + "' is not a number", null);
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            for (int r; (r = in.read(chunk)) >= 0; ) {
                if (buf.size() + r > limit) {
                    throw ApiException.tooLarge(limit);
                }
                buf.write(chunk, 0, r);
            }
            return buf.toByteArray();
        }
    }

    static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JsonFields.MAPPER.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    static void sendError(HttpExchange ex, ApiException e) throws IOException {
        if (e.status() == 429) {
            ex.getResponseHeaders().set("Retry-After", "1");
        }
        if (e.status() == 401) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
        }
        sendJson(ex, e.status(), e.toJson());
    }
}
