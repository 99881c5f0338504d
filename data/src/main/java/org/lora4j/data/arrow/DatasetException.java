package org.lora4j.data.arrow;

/**
 * A dataset that cannot be opened, read or written as asked: an unreadable or truncated file, a missing
 * column, a column of the wrong type, an empty dataset, a value that does not fit its column.
 * Messages say what, where (file, column, row), what was expected, what was found, and how to fix it.
 */
public class DatasetException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
