package org.lora4j.trainer.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.trainer.plan.MemoryPlan;
import org.lora4j.trainer.plan.Planner;
import org.lora4j.trainer.recipe.Recipe;
import org.lora4j.trainer.recipe.RecipeLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lora4j plan}: the estimated memory of a recipe's training run, from config.json alone. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Estimate the memory a recipe's training run needs, before downloading or loading any weight: "
                + "base weights (computed in FP32), trained parameters with gradients and AdamW state, the "
                + "activations one micro-batch keeps for backward, and the tokens per optimizer step.",
            "Reads only model.path/config.json. When that folder does not exist yet and its name is that of a "
                + "model the shipped recipes use (SmolLM2-135M-Instruct, Qwen2.5-0.5B-Instruct, "
                + "Llama-3.2-1B-Instruct, Llama-3.1-8B-Instruct, Mistral-7B-Instruct-v0.3), a built-in copy of "
                + "its config.json is used; any other model needs its folder (config.json is enough).",
            "The numbers are an estimate of what the training graph holds at its peak; the JVM heap, the data "
                + "and arrays awaiting garbage collection come on top."},
        footer = {"", "Examples:",
            "  lora4j plan --recipe recipes/smollm2/135m_lora.yaml",
            "  lora4j plan --recipe recipes/llama3.1/8b_lora.yaml --set data.max_seq_len=2048"})
public final class PlanCommand implements Callable<Integer> {
    /** This JVM's off-heap cap (scripts/lora4j sets it from LORA4J_MAX_OFFHEAP, default 40% of RAM). */
    static long offHeapCap() {
        return org.bytedeco.javacpp.Pointer.maxBytes();
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--recipe", required = true, paramLabel = "FILE", description = "The YAML recipe.")
    Path recipe;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a recipe value (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() {
        Recipe r = RecipeLoader.load(recipe, overrides);
        Planner.ResolvedConfig rc = Planner.resolveConfig(Path.of(r.model().path()));
        MemoryPlan plan = Planner.plan(rc.config(), r);
        PrintWriter out = spec.commandLine().getOut();
        print(out, recipe.toString(), r, rc, plan, plan.full() ? null : Planner.planFull(rc.config(), r));
        out.flush();
        return 0;
    }

    static void print(PrintWriter out, String recipeName, Recipe r, Planner.ResolvedConfig rc, MemoryPlan p,
                      MemoryPlan fullAlternative) {
        ModelConfig c = p.config();
        String dtype = r.model().dtype();
        out.printf(Locale.ROOT, "memory plan for %s (an estimate; no weights loaded)%n", recipeName);
        out.printf(Locale.ROOT, "model      %s%n", r.model().path());
        out.printf(Locale.ROOT, "           %s%n", c);
        out.printf(Locale.ROOT, "           config: %s%n", rc.source());
        int stored = p.storedBytesPerValue();
        out.printf(Locale.ROOT, "           %,d parameters, stored as %s%s, computed in %s%n", p.baseParameters(),
                c.torchDtype(), stored == 0 ? "" : " (" + MemoryPlan.human(p.baseParameters() * stored) + ")", dtype);
        if (p.full()) {
            out.printf(Locale.ROOT, "training   full-parameter: all %,d parameters%n", p.trainableParameters());
        } else {
            var a = r.adapter();
            out.printf(Locale.ROOT, "training   LoRA r=%d alpha=%s dropout=%s on %d modules (%s): %,d parameters"
                            + " (%.2f%% of the base)%n", a.r(), num(a.loraAlpha()), num(a.loraDropout()),
                    p.adaptedModules(), a.targetRegex() != null ? "'" + a.targetRegex() + "'"
                            : String.join(", ", a.targetModules()), p.trainableParameters(),
                    100.0 * p.trainableParameters() / p.baseParameters());
        }
        out.printf(Locale.ROOT, "batch      %d x %d tokens per micro-batch (batch_size x max_seq_len), %d"
                + " micro-batches per step = %,d tokens per optimizer step%n", p.batchSize(), p.seqLen(),
                p.gradientAccumulationSteps(), p.tokensPerStep());
        out.println();
        int e = p.bytesPerValue();
        row(out, "weights", p.weights(), String.format(Locale.ROOT, "%,d x %d bytes (%s)", p.baseParameters(), e,
                dtype));
        if (p.full()) {
            row(out, "gradients", p.gradients(), "one per weight");
        } else {
            row(out, "LoRA A, B", p.adapterWeights(), String.format(Locale.ROOT, "%,d x %d bytes",
                    p.trainableParameters(), e));
            row(out, "LoRA gradients", p.gradients(), "");
        }
        row(out, "AdamW state", p.optimizerState(), "m, v and the update scratch: 3 per trained parameter");
        MemoryPlan.Activations a = p.activations();
        row(out, "activations", a.total(), "kept for backward, one micro-batch of " + p.batchSize() + " x "
                + p.seqLen() + " tokens:");
        sub(out, "residual stream", a.residual(), "x before each norm of each layer, and the final norm's");
        sub(out, "q, k, v", a.attentionQkv(), "after RoPE");
        sub(out, "attention probs", a.attentionProbs(), c.numAttentionHeads() + " heads x " + p.seqLen() + " x "
                + p.seqLen() + " per sequence per layer");
        sub(out, "MLP gate, up", a.mlp(), "2 x " + c.intermediateSize() + " per token per layer");
        if (a.linearInputs() > 0) {
            sub(out, "linear inputs", a.linearInputs(), "the input of every linear (norm outputs, o_proj's, down_proj's,"
                    + " lm_head's)");
        }
        if (a.loraU() > 0) {
            sub(out, "LoRA u", a.loraU(), "r per token per adapted module");
        }
        if (a.dropout() > 0) {
            sub(out, "LoRA dropout", a.dropout(), "drop(x) and its mask per adapted module");
        }
        sub(out, "logits", a.logits(), c.vocabSize() + " per token (backward overwrites them with dlogits)");
        sub(out, "RoPE tables", a.rope(), "cos, sin: 2 x " + c.headDim() + " per token");
        row(out, "backward temps", p.backwardTemporaries(), "one layer's largest (attention dq, dk, dv, dO, a block of dP; or MLP)");
        out.println("  " + "-".repeat(30));
        row(out, "total", p.total(), "");
        if (fullAlternative != null) {
            out.printf(Locale.ROOT, "%nfull-parameter training (adapter.method: full) would need about %s%n",
                    MemoryPlan.human(fullAlternative.total()));
        }
        if (p.total() > offHeapCap()) {
            long offheap = p.suggestedOffHeapGiB();
            out.printf(Locale.ROOT, "%nThis is above the off-heap cap of this JVM (%s), where ND4J keeps"
                    + " its arrays; raise it, e.g.%n  LORA4J_MAX_OFFHEAP=%dG LORA4J_MAX_PHYSICAL=%dG scripts/lora4j"
                    + " train --recipe %s%n", MemoryPlan.human(offHeapCap()), offheap, offheap + 10, recipeName);
        }
    }

    private static void row(PrintWriter out, String name, long bytes, String note) {
        out.println(String.format(Locale.ROOT, "  %-20s %10s   %s", name, MemoryPlan.human(bytes), note).stripTrailing());
    }

    private static void sub(PrintWriter out, String name, long bytes, String note) {
        out.println(String.format(Locale.ROOT, "    %-18s %10s   %s", name, MemoryPlan.human(bytes), note)
                .stripTrailing());
    }

    private static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
