package org.lora4j.data.format;

import java.util.Objects;

/** A piece of a rendered example and whether its tokens carry loss. */
public record Segment(String text, boolean trainable) {
    public Segment {
        Objects.requireNonNull(text, "text");
    }

    public static Segment masked(String text) {
        return new Segment(text, false);
    }

    public static Segment trained(String text) {
        return new Segment(text, true);
    }
}
