package org.lora4j.data.tokenizer;

/**
 * A tokenizer or tokenizer-configuration problem: a missing or invalid {@code tokenizer.json} /
 * {@code tokenizer_config.json}, an unknown token or id, or a model without a chat template.
 * Messages say what, where, what was expected, what was found, and how to fix it.
 */
public class TokenizerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
