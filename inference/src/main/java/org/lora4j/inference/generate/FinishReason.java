package org.lora4j.inference.generate;

/** Why a row stopped, with OpenAI's names: an eos id or stop string ({@code stop}), or the token limit. */
public enum FinishReason {
    STOP("stop"),
    LENGTH("length");

    private final String openAiName;

    FinishReason(String openAiName) {
        this.openAiName = openAiName;
    }

    public String openAiName() {
        return openAiName;
    }
}
