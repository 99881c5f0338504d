package org.lora4j.trainer.recipe;

/**
 * A recipe that cannot be used: an unknown key, a value of the wrong type or out of range, a missing required key.
 * The message names the key path ({@code optimizer.lr}), what was expected and what was found; {@link RecipeLoader}
 * prefixes where the value came from (file and line, or the {@code --set} override).
 */
public class RecipeException extends IllegalArgumentException {

    private final String keyPath;

    public RecipeException(String keyPath, String message) {
        super(message);
        this.keyPath = keyPath;
    }

    public RecipeException(String keyPath, String message, Throwable cause) {
        super(message, cause);
        this.keyPath = keyPath;
    }

    /** The dotted key the problem is about, e.g. {@code adapter.r}; empty for the recipe as a whole. */
    public String keyPath() {
        return keyPath;
    }
}
