package org.lora4j.data.arrow;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * An iterator over rows that holds files and Arrow memory until closed; use it in try-with-resources.
 * {@link #close()} is idempotent and throws no checked exception.
 */
public interface CloseableIterator<T> extends Iterator<T>, AutoCloseable {
    @Override
    void close();

    /** An iterator with nothing to release, e.g. over rows already in memory. */
    static <T> CloseableIterator<T> of(Iterator<T> it) {
        return new CloseableIterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public T next() {
                if (!it.hasNext()) {
                    throw new NoSuchElementException();
                }
                return it.next();
            }

            @Override
            public void close() {}
        };
    }
}
