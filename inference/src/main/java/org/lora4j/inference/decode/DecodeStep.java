package org.lora4j.inference.decode;

import org.lora4j.inference.model.AttentionMask;
import org.lora4j.inference.model.KvCache;

/**
 * One single-token decoding step of a batch: every row's next token goes through the decoder and lm_head,
 * its keys and values fill the cache's next slot. Equivalent to {@code lmHead(decoder.hidden(ids, positions,
 * mask, cache, ctx))} with {@code T = 1}. Holds scratch buffers: one run (one thread) at a time.
 */
public interface DecodeStep {
    /**
     * @param ids       {@code [B][1]} the token of each row
     * @param positions {@code [B][1]} its position (rows are left-padded, so positions differ from slots)
     * @param mask      which cache slots each row may attend to; the new token takes slot {@code cache.length()}
     * @param cache     the run's KV cache, advanced by one slot
     * @return logits {@code [B][V]}
     */
    float[][] next(int[][] ids, int[][] positions, AttentionMask mask, KvCache cache);
}
