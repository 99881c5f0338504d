package org.lora4j.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.LoraInit;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.data.tokenizer.HfTokenizer;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine;

/**
 * {@code lora4j serve} as a user starts it, inside this JVM on a free port: a chat completion for an adapter gives
 * what {@code lora4j generate --adapter} gives, and stopping (as Ctrl-C does) lets a running stream finish before the
 * command returns 0 and the port closes.
 */
class ServeCommandTest {
    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final ObjectMapper json = new ObjectMapper();

    private HttpRequest.Builder post(URI base, String path, String body) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    }

    @Test
    void servesAChatCompletionAndStopsGracefully() throws Exception {
        Path model = tmp.resolve("tiny-llama");
        Path adapter = tmp.resolve("sql");
        TinyModelGenerator.write(model, Architecture.LLAMA, TinyModelGenerator.Size.TINY, 7, DType.F32);
        String expected;
        try (LanguageModel lm = LanguageModel.load(model)) {
            PeftAdapterFiles.save(adapter, LoraAdapter.init(LoraConfig.of(4, 8, TargetModules.Names.of("q_proj",
                    "v_proj", "down_proj")).withInit(LoraInit.RANDOM), lm.linearShapes(), 3, DataType.FLOAT));
            LanguageModel sql = lm.withAdapter(adapter);   // what `lora4j generate --adapter sql --chat ...` runs
            HfTokenizer tok = sql.requireTokenizer("chat");
            int[] prompt = tok.encode(tok.chatTemplate().render(List.of(ChatMessage.user("Who reads the data?")),
                    true), false);
            expected = sql.generate(List.of(prompt), GenerationConfig.greedy(6, sql.eosTokenIds()), null).get(0)
                    .text();
        }

        CommandLine cl = Lora4j.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        ServeCommand serve = cl.getSubcommands().get("serve").getCommand();
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cl.execute("serve", "--model",
                model.toString(), "--adapter", "sql=" + adapter, "--port", "0", "--max-concurrency", "1"));
        CompletableFuture.anyOf(serve.started(), exit).get(120, TimeUnit.SECONDS);
        assertTrue(serve.started().isDone(), "serve ended before listening: exit " + exit.getNow(null) + ", " + err);
        URI base = serve.started().get();                                              // http://127.0.0.1:PORT/v1
        assertTrue(err.toString().contains("serving tiny-llama, sql at " + base), err.toString());

        HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create(base + "/models")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, models.statusCode(), models.body());
        assertEquals(2, json.readTree(models.body()).get("data").size(), models.body());

        HttpResponse<String> chat = http.send(post(base, "/chat/completions", "{\"model\": \"sql\", \"messages\": "
                + "[{\"role\": \"user\", \"content\": \"Who reads the data?\"}], \"max_tokens\": 6, "
                + "\"temperature\": 0}").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, chat.statusCode(), chat.body());
        JsonNode reply = json.readTree(chat.body());
        assertEquals(expected, reply.get("choices").get(0).get("message").get("content").asText(), chat.body());
        assertTrue(reply.get("usage").get("completion_tokens").asInt() > 0, chat.body());

        // a stream that is running when the command is told to stop still ends with [DONE]
        HttpResponse<Stream<String>> stream = http.send(post(base, "/completions", "{\"model\": \"tiny-llama\", "
                + "\"prompt\": \"The model reads\", \"max_tokens\": 200, \"ignore_eos\": true, \"stream\": true}")
                .build(), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, stream.statusCode());
        Iterator<String> lines = stream.body().filter(l -> l.startsWith("data: ")).iterator();
        assertTrue(lines.hasNext(), "a first chunk");
        lines.next();
        serve.stop();
        String last = null;
        int chunks = 1;
        while (lines.hasNext()) {
            last = lines.next();
            chunks++;
        }
        assertEquals("data: [DONE]", last);
        assertTrue(chunks > 2, "the stream went on after stop: " + chunks + " data lines");
        assertEquals(0, exit.get(60, TimeUnit.SECONDS), err.toString());
        assertTrue(err.toString().contains("stopping: finishing running requests"), err.toString());
        assertThrows(IOException.class, () -> http.send(HttpRequest.newBuilder(URI.create(base + "/models"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()), "the port is closed");
        assertFalse(exit.isCompletedExceptionally());
    }
}
