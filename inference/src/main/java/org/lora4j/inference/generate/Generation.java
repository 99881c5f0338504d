package org.lora4j.inference.generate;

/**
 * One row's result.
 *
 * @param promptIds the prompt as given
 * @param tokenIds  the new tokens (an ending eos id is included, text after a stop string is not removed here)
 * @param text      the decoded new text, cut before a stop string; null when no detokenizer was given
 */
public record Generation(int[] promptIds, int[] tokenIds, String text, FinishReason finishReason) {
}
