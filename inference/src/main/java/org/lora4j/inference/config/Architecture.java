package org.lora4j.inference.config;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The Hugging Face architectures one configurable decoder runs. Each differs only in config mapping:
 * which projections carry biases and whether a sliding attention window applies.
 */
public enum Architecture {
    LLAMA("LlamaForCausalLM", "llama"),
    MISTRAL("MistralForCausalLM", "mistral"),
    QWEN2("Qwen2ForCausalLM", "qwen2");

    private final String hfClass;
    private final String modelType;

    Architecture(String hfClass, String modelType) {
        this.hfClass = hfClass;
        this.modelType = modelType;
    }

    /** The {@code architectures[0]} value in config.json, e.g. {@code LlamaForCausalLM}. */
    public String hfClass() {
        return hfClass;
    }

    /** The {@code model_type} value in config.json, e.g. {@code llama}. */
    public String modelType() {
        return modelType;
    }

    public static Architecture fromHfClass(String name, String where) {
        for (Architecture a : values()) {
            if (a.hfClass.equals(name)) {
                return a;
            }
        }
        throw new ConfigException(where + ": architecture '" + name + "' is not supported; supported: "
                + supportedList() + ". Models of other families need a config mapping in lora4j first.");
    }

    public static Architecture fromModelType(String type, String where) {
        for (Architecture a : values()) {
            if (a.modelType.equals(type)) {
                return a;
            }
        }
        throw new ConfigException(where + ": model_type '" + type + "' is not supported; supported: "
                + Arrays.stream(values()).map(Architecture::modelType).collect(Collectors.joining(", ")));
    }

    public static String supportedList() {
        return Arrays.stream(values()).map(Architecture::hfClass).collect(Collectors.joining(", "));
    }
}
