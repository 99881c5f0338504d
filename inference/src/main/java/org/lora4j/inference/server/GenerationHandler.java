package org.lora4j.inference.server;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import org.lora4j.data.tokenizer.TokenizerException;
import org.lora4j.inference.generate.FinishReason;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: validate, tokenize (the chat template of the
 * model for chat), check the context, queue a {@link Job}, then answer with one JSON object or, with
 * {@code "stream": true}, with Server-Sent Events as tokens arrive. A stream whose client has gone cancels its job,
 * which frees its place in the batch and the worker.
 */
final class GenerationHandler {
    private static final int END = -1; // token ids are >= 0

    private final ServingRuntime runtime;
    private final boolean chat;
    private final SplittableRandom seeds = new SplittableRandom();

    GenerationHandler(ServingRuntime runtime, boolean chat) {
        this.runtime = runtime;
        this.chat = chat;
    }

    /** The validated request, ready to queue. */
    private record Prepared(ServedModel model, int[] prompt, GenerationConfig config, SamplingParams params) {
    }

    void handle(HttpExchange ex, JsonFields body) throws IOException {
        Prepared p = prepare(body);
        Responses shape = new Responses(chat, (chat ? "chatcmpl-" : "cmpl-") + randomId(),
                Instant.now().getEpochSecond(), p.model().id());
        if (p.params().stream()) {
            stream(ex, p, shape);
            return;
        }
        Job job = submit(p, null);
        Generation g;
        try {
            g = job.await();
        } catch (RuntimeException e) {
            throw ApiException.internal(e);
        }
        boolean hasTokenizer = runtime.tokenizer().isPresent();
        HttpIo.sendJson(ex, 200, shape.full(hasTokenizer ? g.text() : "", g.finishReason(), p.prompt().length,
                g.tokenIds().length, hasTokenizer ? null : g.tokenIds()));
    }

    private Prepared prepare(JsonFields body) {
        String modelId;
        SamplingParams params;
        ChatRequest chatRequest = null;
        CompletionRequest completion = null;
        if (chat) {
            chatRequest = ChatRequest.parse(body);
            modelId = chatRequest.model();
            params = chatRequest.params();
        } else {
            completion = CompletionRequest.parse(body);
            modelId = completion.model();
            params = completion.params();
        }
        ServedModel model;
        try {
            model = runtime.adapters().resolve(modelId);
        } catch (UnknownModelException e) {
            throw ApiException.modelNotFound(e);
        }
        String promptParam = chat ? "messages" : "prompt";
        int[] prompt;
        try {
            if (chat) {
                prompt = runtime.encodeChat(chatRequest.messages());
            } else if (completion.prompt() instanceof CompletionRequest.Text t) {
                prompt = runtime.encode(t.text());
            } else {
                prompt = ((CompletionRequest.Ids) completion.prompt()).ids();
            }
        } catch (TokenizerException | IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage(), promptParam);
        }
        int vocab = runtime.base().config().vocabSize();
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] >= vocab) {
                throw ApiException.invalidValue("prompt token " + i + " is " + prompt[i] + ", outside the "
                        + "vocabulary [0, " + vocab + ")", promptParam);
            }
        }
        if (prompt.length == 0) {
            throw ApiException.invalidValue("the prompt is empty after tokenization; give some text", promptParam);
        }
        int context = runtime.contextLength();
        if (prompt.length >= context) {
            throw new ApiException(400, "invalid_request_error", "the prompt is " + prompt.length + " tokens, but "
                    + "this model's context is " + context + " tokens (max_position_embeddings), and at least one "
                    + "token must be left to generate; shorten the " + (chat ? "messages" : "prompt"),
                    promptParam, "context_length_exceeded");
        }
        // OpenAI's defaults: 16 new tokens for completions, the rest of the context for chat
        int maxNew = params.maxTokens() != null ? params.maxTokens()
                : chat ? context - prompt.length : Math.min(16, context - prompt.length);
        if ((long) prompt.length + maxNew > context) {
            throw new ApiException(400, "invalid_request_error", "this model's context is " + context
                    + " tokens, but " + ((long) prompt.length + maxNew) + " were requested (" + prompt.length
                    + " in the prompt, " + maxNew + " for the completion); lower max_tokens to at most "
                    + (context - prompt.length), chat && body.get("max_completion_tokens") != null
                    ? "max_completion_tokens" : "max_tokens", "context_length_exceeded");
        }
        if (!params.stop().isEmpty() && runtime.tokenizer().isEmpty()) {
            throw ApiException.invalidValue("'stop' needs a tokenizer to decode the text, and this model has no "
                    + "tokenizer.json; leave 'stop' out (generation still ends on eos)", "stop");
        }
        long seed = params.seed() != null ? params.seed() : nextSeed();
        return new Prepared(model, prompt, params.toConfig(maxNew, seed, runtime.eosTokenIds()), params);
    }

    private Job submit(Prepared p, java.util.function.IntConsumer onToken) {
        try {
            return runtime.submit(p.model(), p.prompt(), p.config(), onToken);
        } catch (JobRejectedException e) {
            throw e.reason() == JobRejectedException.Reason.QUEUE_FULL ? ApiException.queueFull(e.getMessage())
                    : ApiException.unavailable(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage(), chat ? "messages" : "prompt");
        }
    }

    private void stream(HttpExchange ex, Prepared p, Responses shape) throws IOException {
        LinkedBlockingQueue<Integer> tokens = new LinkedBlockingQueue<>();
        Job job = submit(p, tokens::add);
        job.result().whenComplete((g, e) -> tokens.add(END));
        boolean hasTokenizer = runtime.tokenizer().isPresent();
        TextStream text = hasTokenizer ? new TextStream(ids -> runtime.decode(ids), p.config()) : null;
        try {
            SseWriter sse = new SseWriter(ex);
            if (chat) {
                sse.event(shape.roleChunk());
            }
            for (int t = tokens.take(); t != END; t = tokens.take()) {
                if (text == null) {
                    sse.event(shape.textChunk("", new int[] {t}));
                } else {
                    String delta = text.onToken(t);
                    if (!delta.isEmpty()) {
                        sse.event(shape.textChunk(delta, null));
                    }
                }
            }
            Generation g;
            try {
                g = job.await();
            } catch (RuntimeException e) {
                sse.event(ApiException.internal(e).toJson());
                sse.done();
                return;
            }
            if (g.finishReason() == FinishReason.CANCELLED) {
                return; // cancelled by the server (shutdown without grace); the client learns it from [DONE] missing
            }
            String rest = text == null ? "" : text.finish(g.text());
            if (!rest.isEmpty()) {
                sse.event(shape.textChunk(rest, null));
            }
            sse.event(shape.finishChunk(g.finishReason()));
            if (p.params().includeUsage()) {
                sse.event(shape.usageChunk(p.prompt().length, g.tokenIds().length));
            }
            sse.done();
        } catch (IOException e) {
            job.cancel(); // the client went away: free its row and, if it was alone, its worker
        } catch (InterruptedException e) {
            job.cancel();
            Thread.currentThread().interrupt();
        }
    }

    private synchronized long nextSeed() {
        return seeds.nextLong();
    }

    private String randomId() {
        byte[] b = new byte[12];
        synchronized (this) {
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) seeds.nextInt(256);
            }
        }
        return HexFormat.of().formatHex(b);
    }
}
