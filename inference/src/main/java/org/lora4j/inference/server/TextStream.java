package org.lora4j.inference.server;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.lora4j.inference.generate.GenerationConfig;

/**
 * Turns one row's growing token list into the text deltas of a stream. The whole row is decoded each time, which
 * keeps multi-byte characters whole; a delta is held back while the text ends in an incomplete character
 * (U+FFFD) or in what may become a stop string, so that the deltas always add up to the final, cut text.
 */
final class TextStream {
    private final Function<int[], String> detokenizer;
    private final GenerationConfig config;
    private final List<String> stops;
    private int[] ids = new int[16];
    private int n;
    private String sent = "";

    TextStream(Function<int[], String> detokenizer, GenerationConfig config) {
        this.detokenizer = detokenizer;
        this.config = config;
        this.stops = config.stopStrings();
    }

    /** The text to send after {@code tokenId}; empty while held back. */
    String onToken(int tokenId) {
        if (config.isEos(tokenId)) {
            return "";
        }
        if (n == ids.length) {
            ids = Arrays.copyOf(ids, 2 * n);
        }
        ids[n++] = tokenId;
        String text = detokenizer.apply(Arrays.copyOf(ids, n));
        int safe = text.length();
        while (safe > 0 && text.charAt(safe - 1) == '\uFFFD') {
            safe--;
        }
        for (String stop : stops) {
            int at = text.indexOf(stop);
            if (at >= 0) {
                safe = Math.min(safe, at);
            }
            for (int k = Math.min(stop.length() - 1, text.length()); k > 0; k--) {
                if (text.endsWith(stop.substring(0, k))) {
                    safe = Math.min(safe, text.length() - k);
                    break;
                }
            }
        }
        return advance(text, safe);
    }

    /** What is left to send once the row has ended with {@code finalText} (the generation's cut text). */
    String finish(String finalText) {
        return finalText == null ? "" : advance(finalText, finalText.length());
    }

    private String advance(String text, int upTo) {
        if (upTo <= sent.length() || !text.startsWith(sent)) {
            return "";
        }
        String delta = text.substring(sent.length(), upTo);
        sent = text.substring(0, upTo);
        return delta;
    }
}
