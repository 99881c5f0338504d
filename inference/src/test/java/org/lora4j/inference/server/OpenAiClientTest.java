package org.lora4j.inference.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.models.Model;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.generate.Generation;

/**
 * The server driven by the official OpenAI Java SDK (com.openai:openai-java): every answer must equal what
 * {@code lora4j generate} computes for the same model, adapter, prompt and seed.
 */
class OpenAiClientTest {
    private static final String KEY = "test-key";
    private static final String USER = "Who reads the data?";

    private static TinyServing files;
    private static ServingRuntime runtime;
    private static OpenAiServer server;
    private static OpenAIClient client;
    private static LanguageModel reference;

    @BeforeAll
    static void start() {
        files = TinyServing.get();
        runtime = files.runtime(new Scheduler.Options(2, 16, 4));
        server = OpenAiServer.start(runtime, OpenAiServer.Options.DEFAULT.withPort(0).withApiKey(KEY));
        client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl().toString()).apiKey(KEY).maxRetries(0).build();
        reference = LanguageModel.load(files.model);
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
        runtime.close();
        reference.close();
    }

    private static ChatCompletionCreateParams.Builder chat(String model, String user, long maxTokens, long seed) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage(user).maxCompletionTokens(maxTokens)
                .temperature(0.8).topP(0.95).seed(seed);
    }

    private static Generation expected(String model, String user, int maxTokens, long seed, List<String> stops) {
        return files.reference(reference, model, List.of(ChatMessage.user(user)), maxTokens, 0.8, 0.95, seed, stops);
    }

    @Test
    void listsTheBaseAndEveryAdapter() {
        List<String> ids = client.models().list().data().stream().map(Model::id).toList();
        assertEquals(List.of(TinyServing.BASE, TinyServing.ALPHA, TinyServing.BETA), ids);
        assertEquals(TinyServing.ALPHA, client.models().retrieve(TinyServing.ALPHA).id());
    }

    @Test
    void chatCompletionEqualsGenerateWithTheSameSeed() {
        ChatCompletion c = client.chat().completions().create(chat(TinyServing.BASE, USER, 12, 3).build());
        Generation want = expected(TinyServing.BASE, USER, 12, 3, List.of());
        assertFalse(want.text().isEmpty());
        assertEquals(want.text(), c.choices().get(0).message().content().orElseThrow());
        assertEquals(want.finishReason().openAiName(), c.choices().get(0).finishReason().asString());
        CompletionUsage u = c.usage().orElseThrow();
        assertEquals(want.promptIds().length, u.promptTokens());
        assertEquals(want.tokenIds().length, u.completionTokens());
        assertEquals(u.promptTokens() + u.completionTokens(), u.totalTokens());
        assertEquals(TinyServing.BASE, c.model());
    }

    @Test
    void streamedChatAddsUpToTheSameText() {
        ChatCompletionCreateParams params = chat(TinyServing.ALPHA, USER, 16, 5)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        StringBuilder text = new StringBuilder();
        List<String> finish = new ArrayList<>();
        List<CompletionUsage> usage = new ArrayList<>();
        int[] chunks = {0};
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
            s.stream().forEach(chunk -> {
                chunks[0]++;
                chunk.choices().forEach(ch -> {
                    ch.delta().content().ifPresent(text::append);
                    ch.finishReason().ifPresent(f -> finish.add(f.asString()));
                });
                chunk.usage().ifPresent(usage::add);
            });
        }
        Generation want = expected(TinyServing.ALPHA, USER, 16, 5, List.of());
        assertEquals(want.text(), text.toString());
        assertEquals(List.of(want.finishReason().openAiName()), finish);
        assertEquals(want.tokenIds().length, usage.get(0).completionTokens());
        assertTrue(chunks[0] > 4, "the text came in " + chunks[0] + " chunks, not token by token");
    }

    @Test
    void completionEqualsGenerateWithThePromptText() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TinyServing.BETA)
                .prompt("The model reads").maxTokens(10).temperature(0.0).build());
        Generation want = files.referenceText(reference, TinyServing.BETA, "The model reads", 10, 0, 1, 0);
        assertEquals(want.text(), c.choices().get(0).text());
        assertEquals(want.finishReason().openAiName(), c.choices().get(0).finishReason().asString());
        assertEquals(want.tokenIds().length, c.usage().orElseThrow().completionTokens());
        assertEquals("text_completion", c._object_().asString().orElseThrow());
    }

    @Test
    void eachRequestPicksItsAdapter() {
        List<String> order = List.of(TinyServing.BASE, TinyServing.ALPHA, TinyServing.BETA, TinyServing.ALPHA,
                TinyServing.BASE, TinyServing.BETA);
        List<String> texts = new ArrayList<>();
        for (String model : order) {
            ChatCompletion c = client.chat().completions().create(chat(model, USER, 12, 9).build());
            String got = c.choices().get(0).message().content().orElseThrow();
            assertEquals(expected(model, USER, 12, 9, List.of()).text(), got, model);
            texts.add(got);
        }
        assertEquals(texts.get(1), texts.get(3));
        assertNotEquals(texts.get(0), texts.get(1), "the adapter must change the output");
        assertNotEquals(texts.get(1), texts.get(2), "the two adapters must differ");
    }

    @Test
    void stopStringCutsTheTextStreamedOrNot() {
        Generation free = expected(TinyServing.BASE, USER, 24, 4, List.of());
        String text = free.text();
        assertTrue(text.length() > 8, text);
        String stop = text.substring(5, 8);
        Generation want = expected(TinyServing.BASE, USER, 24, 4, List.of(stop));
        assertEquals(text.substring(0, text.indexOf(stop)), want.text());

        ChatCompletion c = client.chat().completions().create(chat(TinyServing.BASE, USER, 24, 4).stop(stop).build());
        assertEquals(want.text(), c.choices().get(0).message().content().orElseThrow());
        assertEquals("stop", c.choices().get(0).finishReason().asString());

        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions()
                .createStreaming(chat(TinyServing.BASE, USER, 24, 4).stop(stop).build())) {
            s.stream().forEach(ch -> ch.choices().forEach(x -> x.delta().content().ifPresent(streamed::append)));
        }
        assertEquals(want.text(), streamed.toString());
    }

    @Test
    void tokenIdPromptsWork() {
        int[] ids = reference.requireTokenizer("test").encode("The model reads", true);
        List<Long> prompt = new ArrayList<>();
        for (int id : ids) {
            prompt.add((long) id);
        }
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TinyServing.BASE)
                .prompt(CompletionCreateParams.Prompt.ofArrayOfTokens(prompt)).maxTokens(6).temperature(0.0).build());
        Generation want = files.referenceText(reference, TinyServing.BASE, "The model reads", 6, 0, 1, 0);
        assertEquals(want.text(), c.choices().get(0).text());
        assertArrayEquals(ids, want.promptIds());
    }
}
