package org.lora4j.adapters.lora;

/**
 * How LoRA's A and B start: PEFT's {@code init_lora_weights} (huggingface/peft,
 * {@code LoraLayer.reset_lora_parameters}).
 * With B = 0 the adapted model starts equal to the base (LoRA paper, Hu et al. 2021, section 4.1).
 */
public enum LoraInit {
    /** {@code init_lora_weights=True}: A ~ kaiming_uniform(a=√5) = U(-1/√in, 1/√in), B = 0. PEFT's default. */
    KAIMING_UNIFORM,
    /** {@code init_lora_weights="gaussian"}: A ~ N(0, σ = 1/r), B = 0. */
    GAUSSIAN,
    /**
     * {@code init_lora_weights=False}: A and B both keep nn.Linear's default init, A ~ U(-1/√in, 1/√in),
     * B ~ U(-1/√r, 1/√r). B is non-zero, so the adapter changes the model from step 0; meant for tests
     * (a gradient check with B = 0 proves nothing about dA).
     */
    RANDOM
}
