package org.lora4j.inference.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.generate.GenerationConfig;

/** A folder without tokenizer files is served through token ids; text and chat requests get a clear 400. */
class TokenizerlessModelTest {
    @TempDir
    Path tmp;

    @Test
    void tokenIdsInTokenIdsOut() throws Exception {
        TinyServing files = TinyServing.get();
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.copy(files.model.resolve(f), tmp.resolve(f));
        }
        int[] prompt = {5, 17, 42};
        int[] want;
        try (LanguageModel lm = LanguageModel.load(tmp)) {
            want = lm.generate(List.of(prompt), GenerationConfig.greedy(4, lm.eosTokenIds()), null).get(0).tokenIds();
        }
        try (ServingRuntime rt = ServingRuntime.open(LanguageModel.load(tmp), "ids", Scheduler.Options.DEFAULT);
             OpenAiServer server = OpenAiServer.start(rt, OpenAiServer.Options.DEFAULT.withPort(0))) {
            Http http = Http.of(server, null);
            Http.Reply r = http.post("/v1/completions", "{\"model\": \"ids\", \"prompt\": [5, 17, 42], "
                    + "\"max_tokens\": 4, \"temperature\": 0}");
            assertEquals(200, r.status(), r.text());
            JsonNode choice = r.json().get("choices").get(0);
            assertEquals("", choice.get("text").asText());
            int[] got = new int[choice.get("token_ids").size()];
            for (int i = 0; i < got.length; i++) {
                got[i] = choice.get("token_ids").get(i).asInt();
            }
            assertArrayEquals(want, got);
            Http.assertError(http.post("/v1/completions", "{\"model\": \"ids\", \"prompt\": \"text\"}"), 400, "prompt");
            Http.assertError(http.post("/v1/chat/completions", "{\"model\": \"ids\", \"messages\": [{\"role\": "
                    + "\"user\", \"content\": \"hi\"}]}"), 400, "messages");
            Http.assertError(http.post("/v1/completions", "{\"model\": \"ids\", \"prompt\": [5], \"stop\": \"x\"}"),
                    400, "stop");
        }
    }
}
