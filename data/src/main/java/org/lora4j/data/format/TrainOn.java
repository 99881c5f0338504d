package org.lora4j.data.format;

import java.util.Locale;

/**
 * Which tokens carry loss (the recipe's {@code train_on}). {@link #COMPLETION}, the default: only the completion /
 * assistant turns, with their end-of-sequence or end-of-turn tokens; {@link #ALL}: every token of the example.
 */
public enum TrainOn {
    COMPLETION,
    ALL;

    /** {@code completion} or {@code all}, as written in recipes. */
    public String recipeName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TrainOn parse(String name) {
        for (TrainOn t : values()) {
            if (t.recipeName().equals(name)) return t;
        }
        throw new IllegalArgumentException("unknown train_on '" + name + "'; expected completion (only completion /"
                + " assistant tokens carry loss, the default) or all (every token)");
    }
}
