package org.lora4j.inference.generate;

/**
 * Why a row stopped, with OpenAI's names: an eos id or stop string ({@code stop}), or the token limit. A row whose
 * consumer went away (a client that disconnected) ends as {@code cancelled}, which OpenAI has no name for.
 */
public enum FinishReason {
    STOP("stop"),
    LENGTH("length"),
    CANCELLED("cancelled");

    private final String openAiName;

    FinishReason(String openAiName) {
        this.openAiName = openAiName;
    }

    public String openAiName() {
        return openAiName;
    }
}
