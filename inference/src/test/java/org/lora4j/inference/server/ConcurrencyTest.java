package org.lora4j.inference.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.inference.LanguageModel;

/**
 * Several simultaneous streamed requests over two adapters and the base: each output is identical to its run alone
 * (two workers, batches of up to four rows whatever their adapter; MixedAdapterBatchingTest pins the one-batch case).
 */
class ConcurrencyTest {
    private record Call(String model, String user, long seed) {
    }

    @Test
    void simultaneousStreamsEqualTheirSequentialRuns() throws Exception {
        TinyServing files = TinyServing.get();
        List<Call> calls = new ArrayList<>();
        String[] users = {"Who reads the data?", "Where is the model?"};
        for (String model : List.of(TinyServing.BASE, TinyServing.ALPHA, TinyServing.BETA)) {
            for (int i = 0; i < 2; i++) {
                calls.add(new Call(model, users[i], 100 + i));
            }
        }
        int maxTokens = 8;
        List<String> sequential = new ArrayList<>();
        try (LanguageModel ref = LanguageModel.load(files.model)) {
            for (Call c : calls) {
                sequential.add(files.reference(ref, c.model(), List.of(ChatMessage.user(c.user())), maxTokens, 0.9,
                        1.0, c.seed(), List.of()).text());
            }
        }

        ExecutorService pool = Executors.newFixedThreadPool(calls.size());
        try (ServingRuntime rt = files.runtime(new Scheduler.Options(2, 16, 4));
             OpenAiServer server = OpenAiServer.start(rt, OpenAiServer.Options.DEFAULT.withPort(0))) {
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl().toString()).apiKey("none")
                    .maxRetries(0).build();
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<String>> results = new ArrayList<>();
            for (Call c : calls) {
                results.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    StringBuilder text = new StringBuilder();
                    try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                            ChatCompletionCreateParams.builder().model(c.model()).addUserMessage(c.user())
                                    .maxCompletionTokens(maxTokens).temperature(0.9).seed(c.seed()).build())) {
                        s.stream().forEach(ch -> ch.choices().forEach(x -> x.delta().content()
                                .ifPresent(text::append)));
                    }
                    return text.toString();
                }, pool));
            }
            go.countDown();
            for (int i = 0; i < calls.size(); i++) {
                assertEquals(sequential.get(i), results.get(i).get(), calls.get(i).toString());
            }
            Scheduler.Stats stats = rt.stats();
            assertEquals(calls.size(), stats.completed());
            assertTrue(stats.batches() <= calls.size(), stats.toString());
            client.close();
        } finally {
            pool.shutdownNow();
        }
    }
}
