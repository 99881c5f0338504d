package org.lora4j.inference.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.inference.LanguageModel;

/** {@code /v1/load_lora_adapter} and {@code /v1/unload_lora_adapter} at run time, under the {@code --adapter-dir} root. */
class AdapterLoadingTest {
    private static TinyServing files;
    private static ServingRuntime runtime;
    private static OpenAiServer server;
    private static Http http;

    @BeforeAll
    static void start() {
        files = TinyServing.get();
        runtime = ServingRuntime.open(LanguageModel.load(files.model), TinyServing.BASE, Scheduler.Options.DEFAULT);
        server = OpenAiServer.start(runtime, OpenAiServer.Options.DEFAULT.withPort(0)
                .withAdapterRoot(files.adapterRoot));
        http = Http.of(server, null);
    }

    @AfterAll
    static void stop() {
        server.close();
        runtime.close();
    }

    private static List<String> models() {
        List<String> ids = new ArrayList<>();
        http.get("/v1/models").json().get("data").forEach(m -> ids.add(m.get("id").asText()));
        return ids;
    }

    private static String chat(String model) {
        Http.Reply r = http.post("/v1/chat/completions", "{\"model\": \"" + model + "\", \"messages\": [{\"role\": "
                + "\"user\", \"content\": \"Who reads the data?\"}], \"max_tokens\": 6, \"temperature\": 0}");
        assertEquals(200, r.status(), r.text());
        return r.json().get("choices").get(0).get("message").get("content").asText();
    }

    @Test
    void loadServeUnload() {
        assertEquals(List.of(TinyServing.BASE), models());
        Http.Reply loaded = http.post("/v1/load_lora_adapter", "{\"lora_name\": \"a\", \"lora_path\": \"alpha\"}");
        assertEquals(200, loaded.status(), loaded.text());
        String absolute = files.beta.toAbsolutePath().toString().replace("\\", "\\\\");
        assertEquals(200, http.post("/v1/load_lora_adapter", "{\"lora_name\": \"b\", \"lora_path\": \"" + absolute
                + "\"}").status());
        assertEquals(List.of(TinyServing.BASE, "a", "b"), models());
        JsonNode model = http.get("/v1/models/a").json();
        assertEquals(TinyServing.BASE, model.get("parent").asText());

        try (LanguageModel ref = LanguageModel.load(files.model)) {
            List<ChatMessage> msgs = List.of(ChatMessage.user("Who reads the data?"));
            assertEquals(files.reference(ref, TinyServing.ALPHA, msgs, 6, 0, 1, 0, List.of()).text(), chat("a"));
            assertEquals(files.reference(ref, TinyServing.BETA, msgs, 6, 0, 1, 0, List.of()).text(), chat("b"));
        }

        assertEquals(200, http.post("/v1/unload_lora_adapter", "{\"lora_name\": \"a\"}").status());
        assertEquals(List.of(TinyServing.BASE, "b"), models());
        Http.assertError(http.post("/v1/chat/completions", "{\"model\": \"a\", \"messages\": [{\"role\": \"user\", "
                + "\"content\": \"hi\"}]}"), 404, "model");
        chat("b");
    }

    @Test
    void withoutARootNothingIsLoadedAtRunTime() {
        try (OpenAiServer closed = OpenAiServer.start(runtime, OpenAiServer.Options.DEFAULT.withPort(0))) {
            Http.assertError(Http.of(closed, null).post("/v1/load_lora_adapter", "{\"lora_name\": \"x\", "
                    + "\"lora_path\": \"" + files.alpha.toAbsolutePath() + "\"}"), 403, "lora_path");
        }
    }
}
