package org.lora4j.inference.config;

/** A model folder's config.json (or its weights) does not describe a model lora4j can run. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
