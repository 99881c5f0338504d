package org.lora4j.data.format;

import java.util.ArrayList;
import java.util.List;

/**
 * One example as text: consecutive {@link Segment}s whose concatenation is exactly the text the model sees
 * (special tokens included, as text). Empty segments are dropped.
 */
public record RenderedExample(List<Segment> segments) {
    public RenderedExample {
        List<Segment> kept = new ArrayList<>(segments.size());
        for (Segment s : segments) {
            if (!s.text().isEmpty()) kept.add(s);
        }
        segments = List.copyOf(kept);
    }

    public static RenderedExample of(Segment... segments) {
        return new RenderedExample(List.of(segments));
    }

    public String text() {
        StringBuilder sb = new StringBuilder();
        for (Segment s : segments) sb.append(s.text());
        return sb.toString();
    }

    /** Whether any segment is trainable. */
    public boolean hasTrainableText() {
        return segments.stream().anyMatch(Segment::trainable);
    }

    /** The same text with every segment trainable ({@code train_on: all}). */
    public RenderedExample allTrainable() {
        return new RenderedExample(List.of(Segment.trained(text())));
    }
}
