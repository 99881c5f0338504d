package org.lora4j.inference.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.generate.GenerationConfig;

/**
 * Multi-LoRA batching through the OpenAI SDK: simultaneous streamed chat requests for two adapters and the base are
 * decoded in ONE batch (one adapter per row over the shared base weights), and each stream equals its sequential run
 * ({@code lora4j generate} with the same adapter and seed), greedy and sampled.
 *
 * <p>To make "one batch" certain rather than likely, the single worker is first held by a one-token request whose
 * token callback waits until every streamed request is queued; the worker then takes all of them at once. The
 * scheduler's counters ({@link Scheduler.Stats}, {@code GET /health}) show what it ran.
 */
class MixedAdapterBatchingTest {
    private record Call(String model, String user, double temperature, long seed) {
    }

    @Test
    void streamsForTwoAdaptersAndTheBaseRunInOneBatchAndEqualTheirSequentialRuns() throws Exception {
        TinyServing files = TinyServing.get();
        List<Call> calls = new ArrayList<>();
        for (String model : List.of(TinyServing.ALPHA, TinyServing.BASE, TinyServing.BETA)) {
            calls.add(new Call(model, "Who reads the data?", 0, 0));
            calls.add(new Call(model, "Where is the model in the morning?", 0.9, 200 + calls.size()));
        }
        int maxTokens = 8;
        List<String> sequential = new ArrayList<>();
        try (LanguageModel ref = LanguageModel.load(files.model)) {
            for (Call c : calls) {
                sequential.add(files.reference(ref, c.model(), List.of(ChatMessage.user(c.user())), maxTokens,
                        c.temperature(), 1.0, c.seed(), List.of()).text());
            }
        }
        assertEquals(3, Set.of(sequential.get(0), sequential.get(2), sequential.get(4)).size(),
                "alpha, the base and beta answer differently, so a row decoded with the wrong adapter would show");

        ExecutorService pool = Executors.newFixedThreadPool(calls.size());
        try (ServingRuntime rt = files.runtime(new Scheduler.Options(1, 16, 8));
             OpenAiServer server = OpenAiServer.start(rt, OpenAiServer.Options.DEFAULT.withPort(0))) {
            CountDownLatch release = new CountDownLatch(1);
            Job holder = rt.submit(TinyServing.BASE, rt.encode("The model reads"),
                    new GenerationConfig(1, 0, 0, 1, 1, 0, List.of(), new int[0]), tokenId -> awaitQuietly(release));
            waitFor(rt, s -> s.running() == 1 && s.queued() == 0, "the holder request to occupy the worker");

            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl().toString()).apiKey("none")
                    .maxRetries(0).build();
            List<CompletableFuture<String>> results = new ArrayList<>();
            for (Call c : calls) {
                results.add(CompletableFuture.supplyAsync(() -> {
                    StringBuilder text = new StringBuilder();
                    ChatCompletionCreateParams.Builder p = ChatCompletionCreateParams.builder().model(c.model())
                            .addUserMessage(c.user()).maxCompletionTokens(maxTokens).temperature(c.temperature());
                    if (c.temperature() > 0) {
                        p.seed(c.seed());
                    }
                    try (StreamResponse<ChatCompletionChunk> s =
                                 client.chat().completions().createStreaming(p.build())) {
                        s.stream().forEach(ch -> ch.choices()
                                .forEach(x -> x.delta().content().ifPresent(text::append)));
                    }
                    return text.toString();
                }, pool));
            }
            waitFor(rt, s -> s.queued() == calls.size(), "all " + calls.size() + " streams to be queued");
            release.countDown();

            holder.await();
            for (int i = 0; i < calls.size(); i++) {
                assertEquals(sequential.get(i), results.get(i).get(), calls.get(i).toString());
            }
            Scheduler.Stats stats = rt.stats();
            assertEquals(calls.size() + 1, stats.completed(), stats.toString());
            assertEquals(2, stats.batches(), "the holder, then every stream together: " + stats);
            assertEquals(calls.size(), stats.largestBatch(), stats.toString());
            assertEquals(1, stats.mixedBatches(), stats.toString());
            JsonNode health = Http.of(server, null).get("/health").json();
            assertEquals(calls.size(), health.get("largest_batch").asInt(), health.toString());
            assertEquals(1, health.get("mixed_batches").asInt(), health.toString());
            client.close();
        } finally {
            pool.shutdownNow();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void waitFor(ServingRuntime rt, Predicate<Scheduler.Stats> done, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!done.test(rt.stats())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + ": " + rt.stats());
            }
            Thread.sleep(10);
        }
    }
}
