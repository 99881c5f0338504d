package org.lora4j.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.tiny.Corpus;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.lora4j.trainer.recipe.RecipeLoader;

/**
 * Pins the per-step losses of short training runs, recorded before the runtime was optimized for speed (issue 5):
 * every later change to the forward/backward (buffer reuse, fused kernels, other gemm layouts) must reproduce them.
 * The tolerance (2e-5 relative) admits only float summation-order differences; a wrong gradient, mask or dropout
 * draw moves the losses from the second step on by far more. Covers LoRA with dropout on a packed Llama batch
 * (segment masks), LoRA on a padded Qwen2 batch (biases, tied embeddings, padding masks) with gradient
 * accumulation, and full-parameter training.
 */
class PinnedLossesTest {
    static final double RELATIVE = 2e-5;

    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void setUp() throws Exception {
        data = tmp.resolve("train.jsonl");
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (String s : Corpus.sentences(11, 24)) {
            lines.add(json.createObjectNode().put("text", s).toString());
        }
        Files.write(data, lines);
    }

    static List<Double> train(Architecture arch, String adapterYaml, String... sets) throws Exception {
        Path model = tmp.resolve("model-" + arch);
        if (!Files.exists(model)) {
            TinyModelGenerator.write(model, arch, TinyModelGenerator.Size.TINY, 3, DType.F32);
        }
        Path out = Files.createTempDirectory(tmp, "run");
        List<String> all = new ArrayList<>(List.of("model.path=" + model, "data.train=" + data,
                "training.seed=7", "training.max_steps=6", "optimizer.lr=0.003", "schedule.type=constant",
                "checkpoint.output_dir=" + out));
        all.addAll(List.of(sets));
        TrainingJob.run(RecipeLoader.parse(adapterYaml, "pinned", all), false,
                new PrintStream(new ByteArrayOutputStream()));
        List<Double> losses = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            var n = new ObjectMapper().readTree(line);
            if (n.has("loss")) {
                losses.add(n.get("loss").asDouble());
            }
        }
        return losses;
    }

    static void assertPinned(double[] pinned, List<Double> got) {
        System.out.println("pinned losses: " + got);
        assertEquals(pinned.length, got.size(), "steps: " + got);
        for (int i = 0; i < pinned.length; i++) {
            assertEquals(pinned[i], got.get(i), Math.abs(pinned[i]) * RELATIVE, "step " + (i + 1) + " of " + got);
        }
    }

    @Test
    void loraWithDropoutOnPackedLlamaBatches() throws Exception {
        double[] pinned = {6.240831479119758, 6.1494949855933, 6.16384283789704, 6.1552417766613265, 5.987313996050872, 5.739666345042901};
        assertPinned(pinned, train(Architecture.LLAMA,
                "adapter:\n  r: 8\n  lora_alpha: 16\n  lora_dropout: 0.1\n  target_modules: all-linear\n",
                "data.max_seq_len=32", "data.pack=true", "training.batch_size=2"));
    }

    @Test
    void loraOnPaddedQwen2BatchesWithAccumulation() throws Exception {
        double[] pinned = {6.35789966234757, 6.3079553369565735, 6.434810321179351, 6.394115828621117, 6.468065985137384, 6.284925558902018};
        assertPinned(pinned, train(Architecture.QWEN2,
                "adapter:\n  r: 4\n  lora_alpha: 8\n  target_modules: [q_proj, v_proj, down_proj]\n",
                "data.max_seq_len=32", "data.pack=false", "training.batch_size=3",
                "training.gradient_accumulation_steps=2"));
    }

    @Test
    void fullParameterTraining() throws Exception {
        double[] pinned = {6.240831479119758, 6.033955463956969, 5.95209353945909, 5.808414339274168, 5.677688021304123, 5.25429553737243};
        assertPinned(pinned, train(Architecture.LLAMA, "adapter:\n  method: full\n",
                "data.max_seq_len=32", "data.pack=true", "training.batch_size=2", "optimizer.lr=0.001"));
    }
}
