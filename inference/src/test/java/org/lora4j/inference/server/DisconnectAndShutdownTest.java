package org.lora4j.inference.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.lora4j.inference.LanguageModel;

/**
 * One worker, no wait queue: a second request while a stream runs gets 429; a client that disconnects mid-stream
 * frees the worker; closing the server lets a running stream finish.
 */
class DisconnectAndShutdownTest {

    /** A streamed completion over a raw socket, so that the test decides when the connection goes. */
    private static final class RawStream implements AutoCloseable {
        final Socket socket;
        final BufferedReader in;

        RawStream(OpenAiServer server, String body) throws IOException {
            socket = new Socket("127.0.0.1", server.address().getPort());
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.flush();
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        }

        /** The next {@code data:} payload (chunk-size lines of the chunked encoding are skipped). */
        String nextData() throws IOException {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("data: ")) {
                    return line.substring(6);
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static String longStream(int maxTokens) {
        return "{\"model\": \"tiny\", \"prompt\": \"The model reads\", \"max_tokens\": " + maxTokens
                + ", \"ignore_eos\": true, \"stream\": true, \"temperature\": 0}";
    }

    private static void awaitIdle(Http http) throws InterruptedException {
        for (int i = 0; i < 3000; i++) {
            JsonNode h = http.get("/health").json();
            if (h.get("running").asInt() == 0 && h.get("busy_workers").asInt() == 0) {
                return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("the worker never became free: " + http.get("/health").text());
    }

    @Test
    void fullQueueIs429AndADisconnectFreesTheWorker() throws Exception {
        TinyServing files = TinyServing.get();
        try (ServingRuntime rt = ServingRuntime.open(LanguageModel.load(files.model), TinyServing.BASE,
                new Scheduler.Options(1, 0, 4));
             OpenAiServer server = OpenAiServer.start(rt, OpenAiServer.Options.DEFAULT.withPort(0))) {
            Http http = Http.of(server, null);
            String small = "{\"model\": \"tiny\", \"prompt\": \"x\", \"max_tokens\": 2}";
            try (RawStream stream = new RawStream(server, longStream(500))) {
                assertTrue(stream.nextData().contains("text_completion")); // running now, for ~500 tokens
                JsonNode err = Http.assertError(http.post("/v1/completions", small), 429, null);
                assertEquals("queue_full", err.get("code").asText());
                assertEquals(1, http.get("/health").json().get("rejected").asInt());
            } // the client goes away mid-stream
            awaitIdle(http);
            JsonNode health = http.get("/health").json();
            assertEquals(1, health.get("cancelled").asInt(), health.toString());
            assertEquals(0, health.get("completed").asInt(), health.toString());
            assertEquals(200, http.post("/v1/completions", small).status());
        }
    }

    @Test
    void closeLetsRunningStreamsFinish() throws Exception {
        TinyServing files = TinyServing.get();
        try (ServingRuntime rt = ServingRuntime.open(LanguageModel.load(files.model), TinyServing.BASE,
                new Scheduler.Options(1, 0, 4))) {
            OpenAiServer server = OpenAiServer.start(rt, OpenAiServer.Options.DEFAULT.withPort(0));
            List<String> events = new ArrayList<>();
            CompletableFuture<Void> closed;
            try (RawStream stream = new RawStream(server, longStream(30))) {
                events.add(stream.nextData());
                closed = CompletableFuture.runAsync(server::close);
                for (String d = stream.nextData(); d != null; d = stream.nextData()) {
                    events.add(d);
                    if (d.equals("[DONE]")) {
                        break;
                    }
                }
            }
            closed.get();
            assertEquals("[DONE]", events.get(events.size() - 1), "the stream was cut: " + events);
            JsonNode last = Http.JSON.readTree(events.get(events.size() - 2));
            assertEquals("length", last.get("choices").get(0).get("finish_reason").asText());
            assertEquals(1, rt.stats().completed());
        }
    }
}
