package org.lora4j.data.pipeline;

import java.util.List;
import org.lora4j.data.batch.Sequence;
import org.lora4j.data.format.DataFormat;
import org.lora4j.data.format.TokenizationStats;

/**
 * A dataset ready to train on: its rows, and what it took to get there.
 *
 * @param fromCache true when the tokenized examples came from the Arrow cache
 */
public record PreparedData(List<Sequence> sequences, DataFormat format, TokenizationStats stats,
                           double packingEfficiency, boolean fromCache) {
}
