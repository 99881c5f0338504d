package org.lora4j.trainer.recipe;

import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code adapter:} what to train, with PEFT's {@code LoraConfig} names and meanings (Hu et al., "LoRA: Low-Rank
 * Adaptation of Large Language Models", 2021; rsLoRA: Kalajdzievski, 2023).
 *
 * @param method            {@code lora}; {@code full} (every base weight trained, same loop and checkpoints; the
 *                          LoRA keys are ignored); or {@code none} (no adapter: evaluate the base model)
 * @param r                 the rank
 * @param loraAlpha         scaling numerator: s = alpha / r (alpha / √r with rsLoRA)
 * @param loraDropout       dropout on the adapter's input, in [0, 1)
 * @param targetModules     module names (q_proj, ...) or the single entry {@code all-linear}; null when
 *                          {@code targetRegex} is given
 * @param targetRegex       instead of target_modules: a regex matched against the full module name (PEFT's string
 *                          form of target_modules)
 * @param layersToTransform layer indices to adapt; null = all layers
 * @param useRslora         scale by alpha / √r instead of alpha / r
 * @param initLoraWeights   {@code true} (A Kaiming-uniform, B zero), {@code gaussian} (A normal 1/r, B zero) or
 *                          {@code false} (both random: for tests only, the adapter changes the model from the start)
 */
public record AdapterSection(String method, int r, double loraAlpha, double loraDropout, List<String> targetModules,
                             String targetRegex, List<Integer> layersToTransform, boolean useRslora,
                             String initLoraWeights) {

    public static final List<String> METHODS = List.of("lora", "full", "none");
    public static final List<String> INIT_LORA_WEIGHTS = List.of("true", "gaussian", "false");
    public static final String ALL_LINEAR = "all-linear";
    public static final AdapterSection DEFAULT = new AdapterSection("lora", 8, 16, 0.05,
            List.of("q_proj", "k_proj", "v_proj", "o_proj"), null, null, false, "true");

    public AdapterSection {
        Require.oneOf("adapter.method", method, METHODS);
        Require.atLeast("adapter.r", r, 1);
        Require.positive("adapter.lora_alpha", loraAlpha);
        Require.inHalfOpen("adapter.lora_dropout", loraDropout, 0, 1);
        targetModules = Require.copyOf("adapter.target_modules", targetModules);
        layersToTransform = Require.copyOf("adapter.layers_to_transform", layersToTransform);
        if (targetRegex != null && targetModules != null) {
            throw new RecipeException("adapter.target_regex", "give adapter.target_modules or adapter.target_regex,"
                    + " not both (found target_modules " + targetModules + " and target_regex '" + targetRegex + "')");
        }
        if (targetRegex == null) {
            Require.check(targetModules != null && !targetModules.isEmpty(), "adapter.target_modules",
                    "must list module names (e.g. [q_proj, v_proj]), be \"" + ALL_LINEAR + "\", or be replaced by"
                            + " adapter.target_regex", targetModules);
            Require.check(!targetModules.contains(ALL_LINEAR) || targetModules.size() == 1, "adapter.target_modules",
                    "may hold \"" + ALL_LINEAR + "\" only on its own", targetModules);
        } else {
            try {
                Pattern.compile(targetRegex);
            } catch (PatternSyntaxException e) {
                throw new RecipeException("adapter.target_regex", "adapter.target_regex is not a valid regular"
                        + " expression: " + e.getDescription() + " near index " + e.getIndex() + " of '" + targetRegex
                        + "'", e);
            }
        }
        if (layersToTransform != null) {
            for (int i = 0; i < layersToTransform.size(); i++) {
                Require.atLeast("adapter.layers_to_transform[" + i + "]", layersToTransform.get(i), 0);
            }
        }
        Require.oneOf("adapter.init_lora_weights", initLoraWeights, INIT_LORA_WEIGHTS);
    }

    /** s = alpha / r, or alpha / √r with rsLoRA. */
    public double scaling() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }
}
