package org.lora4j.data.pipeline;

import org.lora4j.data.format.TrainOn;

/**
 * How a dataset becomes training rows.
 *
 * @param format    {@code auto}, {@code text}, {@code prompt_completion}, {@code alpaca}, {@code messages}, {@code sharegpt}
 * @param maxSeqLen tokens per row; longer examples are truncated (counted)
 * @param pack      several examples per row (positions restart, attention stays inside each example)
 * @param trainOn   which tokens carry loss
 */
public record DataSettings(String format, int maxSeqLen, boolean pack, TrainOn trainOn) {
    public DataSettings {
        if (maxSeqLen < 2) {
            throw new IllegalArgumentException("data.max_seq_len must be >= 2, found " + maxSeqLen);
        }
    }

    /** The part of the settings that changes tokenization (packing happens after the cache). */
    String cacheKey() {
        return format + "|" + maxSeqLen + "|" + trainOn;
    }
}
