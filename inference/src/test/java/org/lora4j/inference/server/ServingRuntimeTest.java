package org.lora4j.inference.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.data.tokenizer.ChatMessage;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.generate.FinishReason;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;
import org.nd4j.linalg.api.buffer.DataType;

/** The Java API without HTTP: batching, cancellation, admission, merged serving. */
class ServingRuntimeTest {
    private static GenerationConfig cfg(int maxNew, double temperature, long seed, List<String> stops) {
        return new GenerationConfig(maxNew, temperature, 0, 0.9, 1.0, seed, stops, new int[0]);
    }

    @Test
    void waitingRequestsForOneAdapterShareABatchAndEachGetsItsOwnTokens() throws Exception {
        TinyServing files = TinyServing.get();
        try (ServingRuntime rt = files.runtime(new Scheduler.Options(1, 8, 8))) {
            int[] prompt = rt.encodeChat(List.of(ChatMessage.user("Who reads the data?")));
            int[] other = rt.encode("The model reads");
            // a long job holds the only worker while the others queue up behind it
            CountDownLatch running = new CountDownLatch(1);
            Job blocker = rt.submit(TinyServing.ALPHA, prompt, cfg(300, 0, 0, List.of()), t -> running.countDown());
            assertTrue(running.await(60, TimeUnit.SECONDS));
            List<int[]> prompts = List.of(prompt, other, prompt, other);
            List<GenerationConfig> configs = List.of(cfg(6, 0, 0, List.of()), cfg(9, 0.9, 1, List.of()),
                    cfg(4, 1.0, 2, List.of()), cfg(7, 0.7, 3, List.of()));
            List<Job> jobs = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                jobs.add(rt.submit(TinyServing.BETA, prompts.get(i), configs.get(i), null));
            }
            blocker.cancel();
            Generation cut = blocker.await();
            assertEquals(FinishReason.CANCELLED, cut.finishReason());
            assertTrue(cut.tokenIds().length < 300, "cancelled after " + cut.tokenIds().length + " tokens");

            List<Generation> batched = jobs.stream().map(Job::await).toList();
            assertEquals(4, rt.stats().largestBatch(), rt.stats().toString());
            for (int i = 0; i < jobs.size(); i++) {
                Generation alone = rt.generate(TinyServing.BETA, prompts.get(i), configs.get(i));
                assertArrayEquals(alone.tokenIds(), batched.get(i).tokenIds(), "row " + i);
                assertEquals(configs.get(i).maxNewTokens(), batched.get(i).tokenIds().length);
            }
        }
    }

    @Test
    void aFullQueueRefusesAndUnknownModelsAreNamed() throws Exception {
        TinyServing files = TinyServing.get();
        try (ServingRuntime rt = files.runtime(new Scheduler.Options(1, 1, 8))) {
            int[] prompt = rt.encode("The model reads");
            CountDownLatch running = new CountDownLatch(1);
            Job blocker = rt.submit(TinyServing.BASE, prompt, cfg(300, 0, 0, List.of()), t -> running.countDown());
            assertTrue(running.await(60, TimeUnit.SECONDS));
            Job waiting = rt.submit(TinyServing.BASE, prompt, cfg(2, 0, 0, List.of()), null);
            JobRejectedException e = assertThrows(JobRejectedException.class,
                    () -> rt.submit(TinyServing.ALPHA, prompt, cfg(2, 0, 0, List.of()), null));
            assertEquals(JobRejectedException.Reason.QUEUE_FULL, e.reason());
            waiting.cancel();
            assertEquals(FinishReason.CANCELLED, waiting.await().finishReason());
            blocker.cancel();
            blocker.await();
            UnknownModelException u = assertThrows(UnknownModelException.class,
                    () -> rt.submit("gamma", prompt, cfg(2, 0, 0, List.of()), null));
            assertTrue(u.getMessage().contains("tiny, alpha, beta"), u.getMessage());
            assertThrows(IllegalArgumentException.class, () -> rt.generate(TinyServing.BASE, prompt,
                    cfg(rt.contextLength(), 0, 0, List.of())));
        }
    }

    @Test
    void mergedServingGivesTheUnmergedAdaptersTokens() {
        TinyServing files = TinyServing.get();
        int[] prompt;
        Generation unmerged;
        Generation base;
        GenerationConfig greedy = cfg(10, 0, 0, List.of());
        try (ServingRuntime rt = files.runtime(Scheduler.Options.DEFAULT)) {
            prompt = rt.encode("The model reads");
            unmerged = rt.generate(TinyServing.ALPHA, prompt, greedy);
            base = rt.generate(TinyServing.BASE, prompt, greedy);
        }
        assertFalse(Arrays.equals(unmerged.tokenIds(), base.tokenIds()), "the adapter must change the output");
        try (ServingRuntime merged = ServingRuntime.merged(LanguageModel.load(files.model), "alpha-merged",
                PeftAdapterFiles.load(files.alpha, DataType.FLOAT, w -> { }), files.alpha,
                Scheduler.Options.DEFAULT)) {
            assertEquals(List.of("alpha-merged"), merged.adapters().list().stream().map(ServedModel::id).toList());
            assertArrayEquals(unmerged.tokenIds(), merged.generate("alpha-merged", prompt, greedy).tokenIds());
            assertThrows(IllegalStateException.class, () -> merged.adapters().load("beta", files.beta));
        }
    }
}
