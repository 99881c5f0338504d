package org.lora4j.inference.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A raw HTTP client for what an SDK cannot send (malformed JSON, wrong types, missing keys). */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();

    record Reply(int status, String text) {
        JsonNode json() {
            try {
                return JSON.readTree(text);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + text, e);
            }
        }
    }

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String origin;
    private final String key;

    /** {@code origin}: http://host:port; {@code key}: bearer token or null. */
    Http(String origin, String key) {
        this.origin = origin;
        this.key = key;
    }

    static Http of(OpenAiServer server, String key) {
        return new Http("http://127.0.0.1:" + server.address().getPort(), key);
    }

    Reply post(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(origin + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    Reply get(String path) {
        return send(HttpRequest.newBuilder(URI.create(origin + path)).GET());
    }

    Reply send(HttpRequest.Builder b) {
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        try {
            HttpResponse<String> r = client.send(b.timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The reply is an OpenAI error object with this status (and param, when not null). */
    static JsonNode assertError(Reply r, int status, String param) {
        assertEquals(status, r.status(), r.text());
        JsonNode err = r.json().get("error");
        assertTrue(err != null && err.isObject(), r.text());
        assertTrue(err.get("message").isTextual() && !err.get("message").asText().isBlank(), r.text());
        assertTrue(err.get("type").isTextual(), r.text());
        assertTrue(err.has("param") && err.has("code"), r.text());
        if (param != null) { // a nested field names its place: messages[0].content
            String got = err.get("param").asText();
            assertTrue(got.equals(param) || got.startsWith(param + "[") || got.startsWith(param + "."), r.text());
        }
        assertFalse(err.get("message").asText().contains("Exception"), "no Java class names: " + r.text());
        return err;
    }
}
