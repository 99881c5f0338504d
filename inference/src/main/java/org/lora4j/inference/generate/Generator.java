package org.lora4j.inference.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.Function;
import org.lora4j.inference.decode.DecodeStep;
import org.lora4j.inference.decode.FastDecode;
import org.lora4j.inference.model.AttentionMask;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.KvCache;
import org.lora4j.inference.model.NativeMemory;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Batched autoregressive generation with a KV cache. Prompts are left-padded to one length; padding slots
 * are masked out and each row's positions start at 0 at its first real token, so a row gives the same
 * tokens alone or in a batch. One prefill over the prompts, then one single-token step per new token.
 * Each row may have its own {@link GenerationConfig} (limit, sampling, seed, stop strings, eos ids); the batch
 * runs until its last row has finished.
 */
public final class Generator {
    /** Streaming callbacks of a run; only {@link #onToken} is required. */
    public interface TokenListener {
        /** Called after each accepted token: row, token id. */
        void onToken(int row, int tokenId);

        /** Called once per row as soon as it ends (eos, stop string, limit or cancellation), before the batch ends. */
        default void onFinish(int row, Generation generation) {
        }

        /**
         * Polled before each decoding step for every running row: true ends that row at once with
         * {@link FinishReason#CANCELLED} (its consumer went away); the other rows go on unchanged.
         */
        default boolean cancelled(int row) {
            return false;
        }
    }

    /** One row of a batch: a prompt and its own generation settings. */
    public record Request(int[] prompt, GenerationConfig config) {
    }

    private final Decoder decoder;
    private final ForwardContext ctx;

    /** Generation from the frozen base. */
    public Generator(Decoder decoder) {
        this(decoder, ForwardContext.BASE);
    }

    /**
     * Generation with an unmerged adapter (or any other forward context without dropout). With a
     * {@link ForwardContext#perRow} context, request b of {@link #generate} decodes with the context's row b (its own
     * adapter, or none), so one batch serves several adapters over the shared base; the batch must then have exactly
     * {@link ForwardContext#rowCount()} requests.
     */
    public Generator(Decoder decoder, ForwardContext ctx) {
        this.decoder = decoder;
        this.ctx = ctx;
    }

    /**
     * Every prompt with the same settings.
     *
     * @param detokenizer ids → text, needed for stop strings and {@link Generation#text()}; may be null
     * @param listener    streaming callback; may be null
     */
    public List<Generation> generate(List<int[]> prompts, GenerationConfig cfg,
                                     Function<int[], String> detokenizer, TokenListener listener) {
        List<Request> rows = new ArrayList<>(prompts.size());
        for (int[] p : prompts) {
            rows.add(new Request(p, cfg));
        }
        return generate(rows, detokenizer, listener);
    }

    /**
     * Each row with its own settings; a row's tokens are those it would get alone with its config.
     *
     * @param detokenizer ids → text, needed for stop strings and {@link Generation#text()}; may be null
     * @param listener    streaming callbacks; may be null
     */
    public List<Generation> generate(List<Request> requests, Function<int[], String> detokenizer,
                                     TokenListener listener) {
        if (requests.isEmpty()) {
            return List.of();
        }
        int batch = requests.size();
        if (ctx.isPerRow() && ctx.rowCount() != batch) {
            throw new IllegalArgumentException("the forward context has adapters for " + ctx.rowCount()
                    + " rows but " + batch + " requests were given; build ForwardContext.perRow with one entry per "
                    + "request");
        }
        int promptLen = 0;
        int maxNew = 0;
        for (Request r : requests) {
            if (r.prompt().length == 0) {
                throw new IllegalArgumentException("a prompt must hold at least one token");
            }
            if (!r.config().stopStrings().isEmpty() && detokenizer == null) {
                throw new IllegalArgumentException("stop strings need a tokenizer to decode the text; this model "
                        + "folder has no tokenizer.json (stop on eos ids instead)");
            }
            promptLen = Math.max(promptLen, r.prompt().length);
            maxNew = Math.max(maxNew, r.config().maxNewTokens());
        }
        int capacity = promptLen + Math.max(maxNew, 1);
        int[][] ids = new int[batch][promptLen];
        int[][] pos = new int[batch][promptLen];
        boolean[][] valid = new boolean[batch][capacity];
        int[] nextPos = new int[batch];
        Row[] rows = new Row[batch];
        for (int b = 0; b < batch; b++) {
            int[] p = requests.get(b).prompt();
            int pad = promptLen - p.length;
            for (int i = 0; i < p.length; i++) {
                ids[b][pad + i] = p[i];
                pos[b][pad + i] = i;
                valid[b][pad + i] = true;
            }
            nextPos[b] = p.length;
            rows[b] = new Row(p, requests.get(b).config());
            if (rows[b].cfg.maxNewTokens() == 0) {
                rows[b].finish(FinishReason.LENGTH, detokenizer, listener, b);
            }
        }
        AttentionMask mask = new AttentionMask(valid, null);
        KvCache cache = new KvCache(decoder.config(), batch, capacity, decoder.weights().computeType());
        float[][] logits = lastLogits(decoder.hidden(ids, pos, mask, cache, ctx), batch, promptLen);
        DecodeStep fast = maxNew > 1 ? FastDecode.create(decoder, ctx, batch) : null; // null: ND4J's path

        for (int step = 0; step < maxNew; step++) {
            int[][] next = new int[batch][1];
            int[][] nextPositions = new int[batch][1];
            boolean anyActive = false;
            for (int b = 0; b < batch; b++) {
                Row r = rows[b];
                if (r.generation == null && listener != null && listener.cancelled(b)) {
                    r.finish(FinishReason.CANCELLED, detokenizer, listener, b);
                }
                if (r.generation == null) {
                    int tok = r.sampler.next(logits[b], r.seen);
                    FinishReason f = r.accept(tok, detokenizer, step + 1 == r.cfg.maxNewTokens());
                    if (listener != null) {
                        listener.onToken(b, tok);
                    }
                    if (f != null) {
                        r.finish(f, detokenizer, listener, b);
                    }
                    next[b][0] = tok;
                    anyActive |= r.generation == null;
                }
                nextPositions[b][0] = nextPos[b]++;
                valid[b][cache.length()] = true;
            }
            if (!anyActive) {
                break;
            }
            logits = fast != null ? fast.next(next, nextPositions, mask, cache)
                    : lastLogits(decoder.hidden(next, nextPositions, mask, cache, ctx), batch, 1);
            NativeMemory.collectIfGrown();
        }
        List<Generation> out = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
            if (rows[b].generation == null) {
                rows[b].finish(FinishReason.LENGTH, detokenizer, listener, b);
            }
            out.add(rows[b].generation);
        }
        return out;
    }

    /** hidden {@code [B·T, H]} → logits of each row's last position, {@code [B][V]}. */
    private float[][] lastLogits(INDArray hidden, int batch, int t) {
        int[] last = new int[batch];
        for (int b = 0; b < batch; b++) {
            last[b] = b * t + t - 1;
        }
        INDArray rows = t == 1 ? hidden : hidden.getRows(last);
        return decoder.lmHead().forward(rows, ctx).y().toFloatMatrix();
    }

    /** Mutable state of one row during a run. */
    private static final class Row {
        final int[] prompt;
        final GenerationConfig cfg;
        final Sampler sampler;
        final BitSet seen = new BitSet();
        final List<Integer> tokens = new ArrayList<>();
        String text;           // set when a stop string cut the text
        Generation generation; // set once the row has finished

        Row(int[] prompt, GenerationConfig cfg) {
            this.prompt = prompt;
            this.cfg = cfg;
            this.sampler = new Sampler(cfg);
            Arrays.stream(prompt).forEach(seen::set);
        }

        /** Records {@code tok}; returns why the row ends with it, or null if it goes on. */
        FinishReason accept(int tok, Function<int[], String> detok, boolean last) {
            tokens.add(tok);
            seen.set(tok);
            if (cfg.isEos(tok)) {
                return FinishReason.STOP;
            }
            if (!cfg.stopStrings().isEmpty()) {
                String s = detok.apply(ids());
                for (String stop : cfg.stopStrings()) {
                    int at = s.indexOf(stop);
                    if (at >= 0) {
                        text = s.substring(0, at);
                        return FinishReason.STOP;
                    }
                }
            }
            return last ? FinishReason.LENGTH : null;
        }

        int[] ids() {
            return tokens.stream().mapToInt(Integer::intValue).toArray();
        }

        void finish(FinishReason f, Function<int[], String> detok, TokenListener listener, int row) {
            int[] all = ids();
            String t = text;
            if (t == null && detok != null) {
                int n = all.length;
                if (n > 0 && cfg.isEos(all[n - 1])) {
                    n--;
                }
                t = detok.apply(Arrays.copyOf(all, n));
            }
            generation = new Generation(prompt, all, t, f);
            if (listener != null) {
                listener.onFinish(row, generation);
            }
        }
    }
}
