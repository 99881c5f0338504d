package org.lora4j.adapters.lora;

import java.util.List;

/**
 * A LoRA adapter's hyper-parameters, field for field PEFT's {@code LoraConfig} (huggingface/peft,
 * src/peft/tuners/lora/config.py), so that it round-trips through {@code adapter_config.json}.
 * The adapted layer computes y = x·Wᵀ + s·drop(x)·Aᵀ·Bᵀ with A [r, in], B [out, r] (LoRA, Hu et al. 2021) and
 * s = {@link #scale()}.
 *
 * @param r                   the rank of A and B ({@code r})
 * @param loraAlpha           {@code lora_alpha}; s = lora_alpha / r
 * @param loraDropout         {@code lora_dropout}: dropout on the adapter's input x, in [0, 1)
 * @param targetModules       {@code target_modules}
 * @param layersToTransform   {@code layers_to_transform}: decoder layer indices to adapt; null (or empty) = all
 * @param useRslora           {@code use_rslora}: s = lora_alpha / √r (rank-stabilized LoRA, Kalajdzievski 2023)
 * @param initLoraWeights     {@code init_lora_weights}
 * @param baseModelNameOrPath {@code base_model_name_or_path}; may be null
 */
public record LoraConfig(int r, double loraAlpha, double loraDropout, TargetModules targetModules,
                         List<Integer> layersToTransform, boolean useRslora, LoraInit initLoraWeights,
                         String baseModelNameOrPath) {

    public LoraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("r (the LoRA rank) is " + r + "; expected a positive integer such as"
                    + " 8 or 16");
        }
        if (!(loraAlpha > 0) || Double.isInfinite(loraAlpha)) {
            throw new IllegalArgumentException("lora_alpha is " + loraAlpha + "; expected a positive number,"
                    + " commonly r or 2·r (e.g. 16 for r=8)");
        }
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new IllegalArgumentException("lora_dropout is " + loraDropout + "; expected a probability in"
                    + " [0, 1), e.g. 0.05 (0 disables dropout)");
        }
        if (targetModules == null) {
            throw new IllegalArgumentException("target_modules is missing; expected module names such as"
                    + " [\"q_proj\", \"v_proj\"], a regex string, or \"all-linear\"");
        }
        if (initLoraWeights == null) {
            throw new IllegalArgumentException("init_lora_weights is missing; expected true (Kaiming uniform A,"
                    + " B = 0), \"gaussian\" or false");
        }
        if (layersToTransform != null && layersToTransform.isEmpty()) {
            layersToTransform = null; // PEFT treats [] as "no layer filter"
        }
        if (layersToTransform != null) {
            for (Integer i : layersToTransform) {
                if (i == null || i < 0) {
                    throw new IllegalArgumentException("layers_to_transform " + layersToTransform + " holds " + i
                            + "; expected decoder layer indices >= 0, e.g. [0, 1, 2]");
                }
            }
            layersToTransform = List.copyOf(layersToTransform);
            if (targetModules instanceof TargetModules.Regex) {
                throw new IllegalArgumentException("layers_to_transform " + layersToTransform + " is set while"
                        + " target_modules is a regex; PEFT refuses this combination: put the layer numbers into the"
                        + " regex (e.g. \".*\\\\.layers\\\\.(0|1)\\\\..*q_proj\") or list module names instead");
            }
        }
    }

    /** A config with PEFT's defaults apart from r, alpha and the targets: no dropout, all layers, Kaiming init. */
    public static LoraConfig of(int r, double loraAlpha, TargetModules targetModules) {
        return new LoraConfig(r, loraAlpha, 0.0, targetModules, null, false, LoraInit.KAIMING_UNIFORM, null);
    }

    /** s = lora_alpha / r (LoRA), or lora_alpha / √r with use_rslora (rsLoRA, Kalajdzievski 2023). */
    public double scale() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    public LoraConfig withTargetModules(TargetModules t) {
        return new LoraConfig(r, loraAlpha, loraDropout, t, layersToTransform, useRslora, initLoraWeights,
                baseModelNameOrPath);
    }

    public LoraConfig withInit(LoraInit init) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, layersToTransform, useRslora, init,
                baseModelNameOrPath);
    }

    public LoraConfig withBaseModelNameOrPath(String base) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, layersToTransform, useRslora, initLoraWeights,
                base);
    }
}
