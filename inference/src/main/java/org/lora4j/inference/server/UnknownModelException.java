package org.lora4j.inference.server;

import java.util.List;

/** A request named a model that is neither the served base nor one of its adapters. */
public final class UnknownModelException extends RuntimeException {
    private final String model;

    public UnknownModelException(String model, List<String> available) {
        super("model '" + model + "' does not exist here; this server serves " + String.join(", ", available)
                + " (the base model's name selects no adapter; load another adapter with POST /v1/load_lora_adapter)");
        this.model = model;
    }

    public String model() {
        return model;
    }
}
