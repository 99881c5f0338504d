package org.lora4j.inference.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every error case answers its status with an OpenAI error object, and the server keeps serving afterwards. */
class ErrorsTest {
    private static final String KEY = "sk-local";

    private static TinyServing files;
    private static ServingRuntime runtime;
    private static OpenAiServer server;
    private static Http http;

    @BeforeAll
    static void start() {
        files = TinyServing.get();
        runtime = files.runtime(new Scheduler.Options(1, 4, 4));
        server = OpenAiServer.start(runtime, OpenAiServer.Options.DEFAULT.withPort(0).withApiKey(KEY)
                .withAdapterRoot(files.adapterRoot));
        http = Http.of(server, KEY);
    }

    @AfterAll
    static void stop() {
        server.close();
        runtime.close();
    }

    /** After every case: a real request still works. */
    @AfterEach
    void stillServes() {
        Http.Reply r = http.post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"The model\", "
                + "\"max_tokens\": 2, \"temperature\": 0}");
        assertEquals(200, r.status(), r.text());
        assertEquals("text_completion", r.json().get("object").asText());
    }

    private static String ids(int n) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append(5 + i % 100);
        }
        return sb.append(']').toString();
    }

    static Stream<Arguments> badRequests() {
        String chat = "/v1/chat/completions";
        String cmpl = "/v1/completions";
        String msgs = "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]";
        return Stream.of(
                Arguments.of(chat, "{\"model\": \"tiny\", " + msgs.substring(0, 20), 400, null),   // malformed JSON
                Arguments.of(chat, "", 400, null),                                                  // empty body
                Arguments.of(chat, "[1, 2]", 400, null),                                            // not an object
                Arguments.of(chat, "{" + msgs + "}", 400, "model"),                                 // missing model
                Arguments.of(chat, "{\"model\": \"tiny\"}", 400, "messages"),                       // missing messages
                Arguments.of(cmpl, "{\"model\": \"tiny\"}", 400, "prompt"),                         // missing prompt
                Arguments.of(chat, "{\"model\": 7, " + msgs + "}", 400, "model"),                   // wrong types ...
                Arguments.of(chat, "{\"model\": \"tiny\", \"messages\": \"hi\"}", 400, "messages"),
                Arguments.of(chat, "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": 5}]}", 400,
                        "messages"),
                Arguments.of(chat, "{\"model\": \"tiny\", \"messages\": [{\"content\": \"hi\"}]}", 400, "messages"),
                Arguments.of(chat, "{\"model\": \"tiny\", " + msgs + ", \"temperature\": \"hot\"}", 400, "temperature"),
                Arguments.of(chat, "{\"model\": \"tiny\", " + msgs + ", \"max_tokens\": \"10\"}", 400, "max_tokens"),
                Arguments.of(chat, "{\"model\": \"tiny\", " + msgs + ", \"stream\": \"yes\"}", 400, "stream"),
                Arguments.of(chat, "{\"model\": \"tiny\", " + msgs + ", \"seed\": 1.5}", 400, "seed"),
                Arguments.of(chat, "{\"model\": \"tiny\", " + msgs + ", \"stop\": 5}", 400, "stop"),
                Arguments.of(cmpl, "{\"model\": \"tiny\", \"prompt\": {}}", 400, "prompt"),
                Arguments.of(cmpl, "{\"model\": \"tiny\", \"prompt\": [1, \"a\"]}", 400, "prompt"),
                Arguments.of(chat, "{\"model\": \"tiny\", " + msgs + ", \"temperature\": 3}", 400, "temperature"),
                Arguments.of(chat, "{\"model\": \"tiny\", " + msgs + ", \"top_p\": 0}", 400, "top_p"),
                Arguments.of(chat, "{\"model\": \"tiny\", " + msgs + ", \"max_tokens\": 0}", 400, "max_tokens"),
                Arguments.of(chat, "{\"model\": \"tiny\", " + msgs + ", \"n\": 2}", 400, "n"),
                Arguments.of(chat, "{\"model\": \"tiny\", " + msgs + ", \"logprobs\": true}", 400, "logprobs"),
                Arguments.of(cmpl, "{\"model\": \"tiny\", \"prompt\": [\"a\", \"b\"]}", 400, "prompt"),
                Arguments.of(cmpl, "{\"model\": \"tiny\", \"prompt\": [99999]}", 400, "prompt"),  // outside the vocab
                // longer than the context (512): the prompt alone, then prompt + max_tokens
                Arguments.of(cmpl, "{\"model\": \"tiny\", \"prompt\": " + ids(600) + "}", 400, "prompt"),
                Arguments.of(cmpl, "{\"model\": \"tiny\", \"prompt\": " + ids(500) + ", \"max_tokens\": 20}", 400,
                        "max_tokens"),
                Arguments.of(chat, "{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \""
                        + "data ".repeat(600) + "\"}]}", 400, "messages"),
                // unknown model or adapter
                Arguments.of(chat, "{\"model\": \"gpt-4o\", " + msgs + "}", 404, "model"),
                Arguments.of(cmpl, "{\"model\": \"no-such-adapter\", \"prompt\": \"x\"}", 404, "model"),
                // run-time adapters: outside the root, missing, taken names, unknown names, the base
                Arguments.of("/v1/load_lora_adapter", "{\"lora_name\": \"x\", \"lora_path\": \"../model\"}", 403,
                        "lora_path"),
                Arguments.of("/v1/load_lora_adapter", "{\"lora_name\": \"x\", \"lora_path\": \"/etc\"}", 403,
                        "lora_path"),
                Arguments.of("/v1/load_lora_adapter", "{\"lora_name\": \"x\", \"lora_path\": \"nope\"}", 400,
                        "lora_path"),
                Arguments.of("/v1/load_lora_adapter", "{\"lora_name\": \"x\"}", 400, "lora_path"),
                Arguments.of("/v1/load_lora_adapter", "{\"lora_name\": \"alpha\", \"lora_path\": \"beta\"}", 400,
                        "lora_name"),
                Arguments.of("/v1/unload_lora_adapter", "{\"lora_name\": \"nope\"}", 404, null),
                Arguments.of("/v1/unload_lora_adapter", "{\"lora_name\": \"tiny\"}", 400, "lora_name"),
                Arguments.of("/v1/nothing", "{}", 404, null));
    }

    @ParameterizedTest(name = "[{index}] {0} {2}")
    @MethodSource("badRequests")
    void answersWithAnOpenAiError(String path, String body, int status, String param) {
        Http.assertError(http.post(path, body), status, param);
    }

    @Test
    void contextErrorsSayWhy() {
        JsonNode err = Http.assertError(http.post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": " + ids(600)
                + "}"), 400, "prompt");
        assertEquals("context_length_exceeded", err.get("code").asText());
        assertTrue(err.get("message").asText().contains("512"), err.toString());
        err = Http.assertError(http.post("/v1/chat/completions", "{\"model\": \"gpt-4o\", \"messages\": []}"), 400,
                "messages");
        err = Http.assertError(http.post("/v1/chat/completions", "{\"model\": \"gpt-4o\", \"messages\": [{\"role\": "
                + "\"user\", \"content\": \"hi\"}]}"), 404, "model");
        assertEquals("model_not_found", err.get("code").asText());
        assertTrue(err.get("message").asText().contains("tiny, alpha, beta"), err.toString());
    }

    @Test
    void apiKeyIsRequiredExceptForHealth() {
        Http none = new Http("http://127.0.0.1:" + server.address().getPort(), null);
        Http wrong = new Http("http://127.0.0.1:" + server.address().getPort(), "sk-wrong");
        String body = "{\"model\": \"tiny\", \"prompt\": \"x\", \"max_tokens\": 1}";
        assertEquals("invalid_api_key", Http.assertError(none.post("/v1/completions", body), 401, null)
                .get("code").asText());
        Http.assertError(wrong.post("/v1/completions", body), 401, null);
        Http.assertError(wrong.get("/v1/models"), 401, null);
        Http.assertError(none.post("/v1/load_lora_adapter", "{\"lora_name\": \"x\", \"lora_path\": \"alpha\"}"), 401,
                null);
        assertEquals(200, none.get("/health").status());
    }

    @Test
    void wrongMethodIs405() {
        Http.assertError(http.get("/v1/chat/completions"), 405, null);
        Http.assertError(http.post("/v1/models", "{}"), 405, null);
    }

    @Test
    void adapterPathsMayNotLeaveTheRootThroughALink() throws Exception {
        Path link = files.adapterRoot.resolve("escape");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, files.model);
        try {
            Http.assertError(http.post("/v1/load_lora_adapter", "{\"lora_name\": \"x\", \"lora_path\": \"escape\"}"),
                    403, "lora_path");
        } finally {
            Files.delete(link);
        }
    }
}
