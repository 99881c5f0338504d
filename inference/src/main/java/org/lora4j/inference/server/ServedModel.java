package org.lora4j.inference.server;

import java.nio.file.Path;
import java.util.Optional;
import org.lora4j.inference.LanguageModel;

/**
 * One name a client can put in {@code "model"}: the base, or the base with one adapter applied unmerged (sharing the
 * base's weights), or, with {@code --merge}, the base with one adapter merged into its weights.
 *
 * @param id      the name clients use
 * @param model   what generates: the base, or {@link LanguageModel#withAdapter} of it
 * @param source  the adapter folder it was loaded from; null for the base
 * @param kind    what the name stands for
 * @param created seconds since the epoch when it was loaded (OpenAI's {@code created})
 */
public record ServedModel(String id, LanguageModel model, Path source, Kind kind, long created) {
    /** What a served name stands for. */
    public enum Kind {
        BASE,
        ADAPTER,
        MERGED
    }

    public Optional<Path> adapterDir() {
        return Optional.ofNullable(source);
    }
}
