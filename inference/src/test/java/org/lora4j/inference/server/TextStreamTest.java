package org.lora4j.inference.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.lora4j.inference.generate.GenerationConfig;

/** Stream deltas never show part of a stop string or half a character, and add up to the final text. */
class TextStreamTest {
    /** A fake detokenizer: id i is the i-th piece; "\uFFFD" stands for an incomplete UTF-8 sequence. */
    private static Function<int[], String> pieces(String... p) {
        return ids -> {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < ids.length; i++) {
                String s = p[ids[i]];
                // piece "\uFFFD" followed by "é-rest" becomes whole once the next piece arrives
                if (s.equals("\uFFFD") && i + 1 < ids.length) {
                    continue;
                }
                sb.append(s);
            }
            return sb.toString();
        };
    }

    private static GenerationConfig cfg(List<String> stops) {
        return new GenerationConfig(10, 0, 0, 1, 1, 0, stops, new int[] {9});
    }

    @Test
    void holdsBackPossibleStopStrings() {
        TextStream s = new TextStream(pieces("Hello", " wo", "rld", " EN", "D!", "x"), cfg(List.of(" END")));
        assertEquals("Hello", s.onToken(0));
        assertEquals(" wo", s.onToken(1));
        assertEquals("rld", s.onToken(2));
        assertEquals("", s.onToken(3));      // " EN" may start " END"
        assertEquals("", s.onToken(4));      // " END" is there: nothing of it is sent
        assertEquals("", s.finish("Hello world"));
    }

    @Test
    void releasesAHeldBackPrefixThatDidNotBecomeAStop() {
        TextStream s = new TextStream(pieces("a", " E", "xit"), cfg(List.of(" END")));
        assertEquals("a", s.onToken(0));
        assertEquals("", s.onToken(1));
        assertEquals(" Exit", s.onToken(2));
        assertEquals("", s.finish("a Exit"));
    }

    @Test
    void waitsForWholeCharactersAndSkipsEos() {
        TextStream s = new TextStream(pieces("caf", "\uFFFD", "é!"), cfg(List.of()));
        assertEquals("caf", s.onToken(0));
        assertEquals("", s.onToken(1));
        assertEquals("é!", s.onToken(2));
        assertEquals("", s.onToken(9));
        assertEquals("", s.finish("café!"));
    }
}
