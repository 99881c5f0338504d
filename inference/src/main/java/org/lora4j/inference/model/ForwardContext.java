package org.lora4j.inference.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import org.lora4j.adapters.lora.LoraWeights;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What one forward pass applies on top of the base weights: the LoRA weights of each adapted module (none for
 * the plain base), in training the dropout on the LoRA branch inputs, and — for full-parameter training only —
 * the gradient buffers of the base weights. Run state, never part of the model.
 *
 * <p>A context is either uniform (one adapter, or none, for every row of the batch) or, for serving, per row
 * ({@link #perRow}): row b of the batch uses its own adapter or none, over the same shared base weights
 * (multi-LoRA batching as in Punica / S-LoRA / vLLM). Per-row contexts are inference only: no dropout, no
 * gradients, no backward.
 *
 * @param lora     module path → its LoRA weights, or null when the module is not adapted (uniform contexts)
 * @param dropout  LoRA dropout of this pass, or null (evaluation, generation)
 * @param baseGrad HF tensor name (e.g. {@code model.norm.weight}) → its gradient buffer, or null for a frozen weight
 * @param arena    where the pass takes its activation buffers ({@link Arena#UNPOOLED}: fresh arrays)
 * @param rows     per-row contexts only: batch row → that row's module lookup (null entry = the base); null for a
 *                 uniform context
 */
public record ForwardContext(Function<String, LoraWeights> lora, Dropout dropout, Function<String, INDArray> baseGrad,
                             Arena arena, List<Function<String, LoraWeights>> rows) {
    /** The frozen base: no adapter, no dropout. */
    public static final ForwardContext BASE = new ForwardContext(m -> null, null);

    /** LoRA (or nothing) over a frozen base. */
    public ForwardContext(Function<String, LoraWeights> lora, Dropout dropout) {
        this(lora, dropout, n -> null, Arena.UNPOOLED, null);
    }

    public ForwardContext(Function<String, LoraWeights> lora, Dropout dropout, Function<String, INDArray> baseGrad) {
        this(lora, dropout, baseGrad, Arena.UNPOOLED, null);
    }

    /** The same pass taking its buffers from {@code a}. */
    public ForwardContext withArena(Arena a) {
        return new ForwardContext(lora, dropout, baseGrad, a, rows);
    }

    /** Full-parameter training: every base weight with a buffer in {@code grads} is trained. */
    public static ForwardContext fullTraining(Function<String, INDArray> grads) {
        return new ForwardContext(m -> null, null, grads);
    }

    /** Inference with an unmerged adapter. */
    public static ForwardContext withAdapter(Function<String, LoraWeights> lora) {
        return new ForwardContext(lora, null);
    }

    /**
     * Inference over a batch whose row b applies {@code rowAdapters.get(b)} unmerged (a null entry: the plain base).
     * Every activation entering a linear layer then holds {@code B·T} rows, row b's tokens at
     * {@code [b·T, (b+1)·T)}.
     */
    public static ForwardContext perRow(List<Function<String, LoraWeights>> rowAdapters) {
        if (rowAdapters.isEmpty()) {
            throw new IllegalArgumentException("a per-row context needs at least one row");
        }
        return new ForwardContext(m -> {
            throw new IllegalStateException("this forward context has one adapter per batch row; ask for module "
                    + m + " with loraOf(module, row)");
        }, null, n -> null, Arena.UNPOOLED, Collections.unmodifiableList(new ArrayList<>(rowAdapters)));
    }

    /** True for a {@link #perRow} context. */
    public boolean isPerRow() {
        return rows != null;
    }

    /** Batch rows of a per-row context. */
    public int rowCount() {
        if (rows == null) {
            throw new IllegalStateException("a uniform forward context has no fixed number of rows");
        }
        return rows.size();
    }

    /** The LoRA weights of {@code module} (HF module path) in a uniform context, or null when it is not adapted. */
    public LoraWeights loraOf(String module) {
        return lora.apply(module);
    }

    /** The LoRA weights that batch row {@code row} applies to {@code module}, or null (not adapted, or the base). */
    public LoraWeights loraOf(String module, int row) {
        if (rows == null) {
            return loraOf(module);
        }
        Function<String, LoraWeights> r = rows.get(row);
        return r == null ? null : r.apply(module);
    }

    /** {@link #loraOf(String, int)} of every row of a per-row context. */
    List<LoraWeights> loraOfRows(String module) {
        List<LoraWeights> out = new ArrayList<>(rowCount());
        for (int b = 0; b < rows.size(); b++) {
            out.add(loraOf(module, b));
        }
        return out;
    }

    /** Throws when a per-row (inference-only) context reaches a backward pass. */
    void checkTrainable(String where) {
        if (rows != null) {
            throw new IllegalStateException(where + ": a per-row forward context (one adapter per batch row) is for "
                    + "inference only and keeps nothing for backward; train with a uniform context ("
                    + "new ForwardContext(adapter::get, dropout))");
        }
    }

    /** The gradient buffer of a base tensor, or null when it is frozen. */
    INDArray gradOf(String tensor) {
        return baseGrad.apply(tensor);
    }
}
