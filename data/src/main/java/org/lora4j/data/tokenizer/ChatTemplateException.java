package org.lora4j.data.tokenizer;

/**
 * A chat template that Jinjava cannot parse or render, or one that called {@code raise_exception(msg)}.
 * The message names the construct and line, quotes the template's first line, and says how to fix it
 * (pass a simpler template with {@code --chat-template FILE}).
 */
public class ChatTemplateException extends TokenizerException {
    private static final long serialVersionUID = 1L;

    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
