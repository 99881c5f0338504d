package org.lora4j.trainer.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.lora4j.trainer.cli.Lora4j;
import org.lora4j.trainer.cli.PlanCommand;
import org.lora4j.trainer.recipe.Recipe;
import org.lora4j.trainer.recipe.RecipeLoader;
import picocli.CommandLine;

/** {@code lora4j plan} as a user runs it. */
class PlanCommandTest {
    @TempDir
    Path tmp;

    static final String SMOLLM2 = "../recipes/smollm2/135m_lora.yaml";

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cl = Lora4j.commandLine();
        if (!cl.getSubcommands().containsKey("plan")) {
            cl.addSubcommand("plan", new PlanCommand());
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void plansAShippedRecipeBeforeTheDownload() {
        Run r = run("plan", "--recipe", SMOLLM2, "--set", "training.gradient_accumulation_steps=3");
        assertEquals(0, r.code(), r.err());
        Recipe recipe = RecipeLoader.load(Path.of(SMOLLM2), List.of("training.gradient_accumulation_steps=3"));
        ModelConfig c = KnownModels.forFolder(Path.of(recipe.model().path())).orElseThrow().config();
        MemoryPlan p = Planner.plan(c, recipe);
        assertTrue(r.out().contains("built-in copy of HuggingFaceTB/SmolLM2-135M-Instruct's config.json"), r.out());
        assertTrue(r.out().contains("134,515,008 parameters, stored as bfloat16"), r.out());
        assertTrue(r.out().contains(String.format("= %,d tokens per optimizer step", p.tokensPerStep())), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches(" +total +" + MemoryPlan.human(p.total()) + " *")), r.out());
        assertTrue(r.out().contains("full-parameter training (adapter.method: full) would need about "
                + MemoryPlan.human(Planner.planFull(c, recipe).total())), r.out());
    }

    @Test
    void readsConfigJsonOfAModelFolder() throws Exception {
        Path model = tmp.resolve("tiny");
        TinyModelGenerator.write(model, Architecture.QWEN2, TinyModelGenerator.Size.TINY, 1, DType.BF16);
        Run r = run("plan", "--recipe", SMOLLM2, "--set", "model.path=" + model);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("config: " + model.resolve("config.json")), r.out());
        assertTrue(r.out().contains("Qwen2ForCausalLM(hidden=64"), r.out());
    }

    @Test
    void refusesWhatItCannotPlan() {
        Run unknown = run("plan", "--recipe", SMOLLM2, "--set", "model.path=" + tmp.resolve("my-model"));
        assertEquals(Lora4j.EXIT_BAD_INPUT, unknown.code());
        assertTrue(unknown.err().contains("config.json not found") && unknown.err().contains("SmolLM2-135M-Instruct"),
                unknown.err());
        Run none = run("plan", "--recipe", SMOLLM2, "--set", "adapter.method=none");
        assertEquals(Lora4j.EXIT_BAD_INPUT, none.code());
        assertTrue(none.err().contains("adapter.method is 'none'"), none.err());
        Run typo = run("plan", "--recipe", SMOLLM2, "--set", "adapter.target_modules=[qproj]");
        assertEquals(Lora4j.EXIT_BAD_INPUT, typo.code());
        assertTrue(typo.err().contains("'qproj' matched no layer"), typo.err());
    }
}
