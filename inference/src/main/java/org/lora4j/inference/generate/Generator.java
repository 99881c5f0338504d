package org.lora4j.inference.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.Function;
import org.lora4j.inference.model.AttentionMask;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.KvCache;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Batched autoregressive generation with a KV cache. Prompts are left-padded to one length; padding slots
 * are masked out and each row's positions start at 0 at its first real token, so a row gives the same
 * tokens alone or in a batch. One prefill over the prompts, then one single-token step per new token.
 */
public final class Generator {
    /** Called after each accepted token: row, token id. */
    public interface TokenListener {
        void onToken(int row, int tokenId);
    }

    private final Decoder decoder;
    private final ForwardContext ctx;

    /** Generation from the frozen base. */
    public Generator(Decoder decoder) {
        this(decoder, ForwardContext.BASE);
    }

    /** Generation with an unmerged adapter (or any other forward context without dropout). */
    public Generator(Decoder decoder, ForwardContext ctx) {
        this.decoder = decoder;
        this.ctx = ctx;
    }

    /**
     * @param detokenizer ids → text, needed for stop strings and {@link Generation#text()}; may be null
     * @param listener    streaming callback; may be null
     */
    public List<Generation> generate(List<int[]> prompts, GenerationConfig cfg,
                                     Function<int[], String> detokenizer, TokenListener listener) {
        if (prompts.isEmpty()) {
            return List.of();
        }
        if (!cfg.stopStrings().isEmpty() && detokenizer == null) {
            throw new IllegalArgumentException("stop strings need a tokenizer to decode the text; this model "
                    + "folder has no tokenizer.json (stop on eos ids instead)");
        }
        int batch = prompts.size();
        int promptLen = 0;
        for (int[] p : prompts) {
            if (p.length == 0) {
                throw new IllegalArgumentException("a prompt must hold at least one token");
            }
            promptLen = Math.max(promptLen, p.length);
        }
        int capacity = promptLen + Math.max(cfg.maxNewTokens(), 1);
        int[][] ids = new int[batch][promptLen];
        int[][] pos = new int[batch][promptLen];
        boolean[][] valid = new boolean[batch][capacity];
        int[] nextPos = new int[batch];
        Row[] rows = new Row[batch];
        for (int b = 0; b < batch; b++) {
            int[] p = prompts.get(b);
            int pad = promptLen - p.length;
            for (int i = 0; i < p.length; i++) {
                ids[b][pad + i] = p[i];
                pos[b][pad + i] = i;
                valid[b][pad + i] = true;
            }
            nextPos[b] = p.length;
            rows[b] = new Row(p, new Sampler(cfg));
        }
        AttentionMask mask = new AttentionMask(valid, null);
        KvCache cache = new KvCache(decoder.config(), batch, capacity, decoder.weights().dataType());
        float[][] logits = lastLogits(decoder.hidden(ids, pos, mask, cache, ctx), batch, promptLen);

        for (int step = 0; step < cfg.maxNewTokens(); step++) {
            int[][] next = new int[batch][1];
            int[][] nextPositions = new int[batch][1];
            boolean anyActive = false;
            for (int b = 0; b < batch; b++) {
                Row r = rows[b];
                if (r.finish == null) {
                    int tok = r.sampler.next(logits[b], r.seen);
                    r.accept(tok, cfg, detokenizer, step + 1 == cfg.maxNewTokens());
                    if (listener != null) {
                        listener.onToken(b, tok);
                    }
                    next[b][0] = tok;
                    anyActive |= r.finish == null;
                }
                nextPositions[b][0] = nextPos[b]++;
                valid[b][cache.length()] = true;
            }
            if (!anyActive) {
                break;
            }
            logits = lastLogits(decoder.hidden(next, nextPositions, mask, cache, ctx), batch, 1);
        }
        List<Generation> out = new ArrayList<>(batch);
        for (Row r : rows) {
            out.add(r.result(cfg, detokenizer));
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
        final Sampler sampler;
        final BitSet seen = new BitSet();
        final List<Integer> tokens = new ArrayList<>();
        FinishReason finish;
        String text;

        Row(int[] prompt, Sampler sampler) {
            this.prompt = prompt;
            this.sampler = sampler;
            Arrays.stream(prompt).forEach(seen::set);
        }

        void accept(int tok, GenerationConfig cfg, Function<int[], String> detok, boolean last) {
            tokens.add(tok);
            seen.set(tok);
            if (cfg.isEos(tok)) {
                finish = FinishReason.STOP;
                return;
            }
            if (!cfg.stopStrings().isEmpty()) {
                String s = detok.apply(ids());
                for (String stop : cfg.stopStrings()) {
                    int at = s.indexOf(stop);
                    if (at >= 0) {
                        text = s.substring(0, at);
                        finish = FinishReason.STOP;
                        return;
                    }
                }
            }
            if (last) {
                finish = FinishReason.LENGTH;
            }
        }

        int[] ids() {
            return tokens.stream().mapToInt(Integer::intValue).toArray();
        }

        Generation result(GenerationConfig cfg, Function<int[], String> detok) {
            int[] all = ids();
            FinishReason f = finish == null ? FinishReason.LENGTH : finish;
            String t = text;
            if (t == null && detok != null) {
                int n = all.length;
                if (n > 0 && cfg.isEos(all[n - 1])) {
                    n--;
                }
                t = detok.apply(Arrays.copyOf(all, n));
            }
            return new Generation(prompt, all, t, f);
        }
    }
}
