package org.lora4j.trainer.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.server.OpenAiServer;
import org.lora4j.inference.server.Scheduler;
import org.lora4j.inference.server.ServingRuntime;

/**
 * The demo's last step: serve the base with the trained adapter on a free local port and answer one chat
 * completion request over HTTP, the way any OpenAI client would send it.
 */
public final class DemoServerCheck {
    private DemoServerCheck() {
    }

    /** Returns the assistant's answer. */
    public static String run(Path base, Path adapter, TicketTask.Example example, PrintStream o) {
        ObjectMapper json = new ObjectMapper();
        try (ServingRuntime runtime = ServingRuntime.open(LanguageModel.load(base), "demo-base", Scheduler.Options.DEFAULT)) {
            runtime.adapters().load("tickets", adapter);
            try (OpenAiServer server = OpenAiServer.start(runtime, OpenAiServer.Options.DEFAULT.withPort(0))) {
                URI url = server.baseUrl().resolve("/v1/chat/completions");
                var body = json.createObjectNode().put("model", "tickets").put("max_tokens", 32).put("temperature", 0);
                body.putArray("messages").addObject().put("role", "user").put("content", example.prompt());
                o.println("server: " + server.baseUrl() + " serves demo-base and the adapter 'tickets'");
                o.println("POST " + url + "  {\"model\": \"tickets\", \"messages\": [{\"role\": \"user\", ...}]}");
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(url)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                        HttpResponse.BodyHandlers.ofString());
                JsonNode answer = json.readTree(r.body());
                String content = answer.path("choices").path(0).path("message").path("content").asText();
                o.println("HTTP " + r.statusCode() + ": " + content + "   (wanted " + example.json() + ")");
                return content;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the demo's server request failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
