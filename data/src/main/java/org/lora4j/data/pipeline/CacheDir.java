package org.lora4j.data.pipeline;

import java.nio.file.Path;

/** Where tokenized caches go: {@code -Dlora4j.cache=DIR}, else {@code $LORA4J_CACHE}, else {@code ~/.cache/lora4j}. */
public final class CacheDir {
    private CacheDir() {
    }

    public static Path resolve() {
        String prop = System.getProperty("lora4j.cache");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv("LORA4J_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "lora4j");
    }
}
