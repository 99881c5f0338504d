package org.lora4j.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.merge.LoraMerge;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.tiny.Corpus;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.lora4j.trainer.recipe.Recipe;
import org.lora4j.trainer.recipe.RecipeLoader;
import org.lora4j.trainer.state.CheckpointDir;

/** The LoRA training loop end to end on a tiny model: it learns, it leaves the base alone, it resumes exactly. */
class TrainingTest {
    @TempDir
    static Path tmp;

    static Path model;
    static Path data;

    @BeforeAll
    static void setUp() throws Exception {
        model = tmp.resolve("tiny-llama");
        TinyModelGenerator.write(model, Architecture.LLAMA, TinyModelGenerator.Size.TINY, 9, DType.F32);
        data = tmp.resolve("train.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            lines.addAll(Corpus.sentences(3, 4)); // a small set, seen again and again: it can be memorised
        }
        Files.write(data, lines.stream().map(l -> new ObjectMapper().createObjectNode().put("text", l).toString())
                .toList());
    }

    static Recipe recipe(Path out, String... extra) {
        List<String> sets = new ArrayList<>(List.of("model.path=" + model, "data.train=" + data,
                "data.max_seq_len=16", "data.pack=true", "training.batch_size=4", "training.seed=5", "checkpoint.output_dir=" + out));
        sets.addAll(List.of(extra));
        return RecipeLoader.parse("adapter:\n  r: 16\n  lora_alpha: 32\n  target_modules: all-linear\n", "test", sets);
    }

    static List<Double> losses(Path out) throws Exception {
        List<Double> l = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode n = new ObjectMapper().readTree(line);
            if (n.has("loss")) {
                l.add(n.get("loss").asDouble());
            }
        }
        return l;
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    @Test
    void overfitsASmallSetAndLeavesTheBaseUntouched() throws Exception {
        byte[] before = Files.readAllBytes(model.resolve("model.safetensors"));
        Path out = tmp.resolve("overfit");
        TrainingJob.Summary s = TrainingJob.run(recipe(out, "training.max_steps=60", "optimizer.lr=0.01",
                "adapter.lora_dropout=0.0", "schedule.type=constant", "data.validation_split=0.2"), false, quiet());
        List<Double> l = losses(out);
        assertEquals(60, l.size());
        double last = (l.get(57) + l.get(58) + l.get(59)) / 3;
        assertTrue(last < 0.5 * l.get(0), "loss " + l.get(0) + " -> " + l.subList(50, 60));
        assertTrue(s.after().loss() < s.before().loss(), "validation loss did not improve");
        assertArrayEquals(before, Files.readAllBytes(model.resolve("model.safetensors")));
        // trainable parameters: Σ r·(in + out) over every linear but lm_head
        long want = 0;
        try (LanguageModel lm = LanguageModel.load(model)) {
            for (Map.Entry<String, int[]> e : lm.linearShapes().entrySet()) {
                if (!e.getKey().equals("lm_head")) {
                    want += 16L * (e.getValue()[0] + e.getValue()[1]);
                }
            }
        }
        assertEquals(want, s.trainableParameters());
        assertTrue(Files.isRegularFile(out.resolve("adapter/adapter_model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("recipe.yaml")));
        assertTrue(Files.size(out.resolve("loss.png")) > 1000, "loss chart");
        String html = Files.readString(out.resolve("index.html"));
        assertTrue(html.contains("loss.png") && html.contains("trainable parameters") && html.contains("max_steps: 60"),
                html);
    }

    @Test
    void savedAdapterAndMergedModelGiveTheTrainedLogits() throws Exception {
        Path out = tmp.resolve("export");
        TrainingJob.run(recipe(out, "training.max_steps=6", "optimizer.lr=0.01"), false, quiet());
        int[] ids = {1, 40, 77, 3, 120, 9, 64};
        try (LanguageModel base = LanguageModel.load(model)) {
            float[][] plain = base.logits(ids);
            float[][] adapted = base.withAdapter(out.resolve("adapter")).logits(ids);
            Path merged = tmp.resolve("merged");
            LoraMerge.mergeModelFolder(model, base.withAdapter(out.resolve("adapter")).adapter().orElseThrow(), merged,
                    1L << 30, false, (i, n) -> { });
            try (LanguageModel m = LanguageModel.load(merged)) {
                float[][] mergedLogits = m.logits(ids);
                double maxDiff = 0;
                double fromBase = 0;
                for (int t = 0; t < ids.length; t++) {
                    for (int v = 0; v < plain[t].length; v++) {
                        maxDiff = Math.max(maxDiff, Math.abs(mergedLogits[t][v] - adapted[t][v]));
                        fromBase = Math.max(fromBase, Math.abs(adapted[t][v] - plain[t][v]));
                    }
                }
                assertTrue(maxDiff < 1e-4, "merged vs unmerged: " + maxDiff);
                assertTrue(fromBase > 1e-2, "the adapter does not change the model: " + fromBase);
            }
        }
    }

    @Test
    void fullParameterTrainingLearnsAndSavesAModelFolder() throws Exception {
        Path out = tmp.resolve("full");
        TrainingJob.Summary s = TrainingJob.run(recipe(out, "adapter.method=full", "training.max_steps=30",
                "optimizer.lr=0.003", "schedule.type=constant", "checkpoint.save_every=10"), false, quiet());
        List<Double> l = losses(out);
        assertTrue(l.get(29) < 0.6 * l.get(0), "loss " + l.get(0) + " -> " + l.get(29));
        try (LanguageModel base = LanguageModel.load(model)) {
            long all = base.decoder().weights().parameterCount();
            assertEquals(all, s.trainableParameters());
        }
        assertEquals(out.resolve("model"), s.savedDir());
        int[] ids = {1, 40, 77, 3};
        try (LanguageModel trained = LanguageModel.load(s.savedDir()); LanguageModel base = LanguageModel.load(model)) {
            assertTrue(trained.tokenizer().isPresent());
            double diff = 0;
            float[][] a = trained.logits(ids);
            float[][] b = base.logits(ids);
            for (int t = 0; t < ids.length; t++) {
                for (int v = 0; v < a[t].length; v++) {
                    diff = Math.max(diff, Math.abs(a[t][v] - b[t][v]));
                }
            }
            assertTrue(diff > 0.1, "the saved model equals the base");
        }
    }

    @Test
    void divergenceStopsWithAClearMessage() {
        Path out = tmp.resolve("diverge");
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> TrainingJob.run(
                recipe(out, "training.max_steps=30", "optimizer.lr=1e30", "optimizer.max_grad_norm=0",
                        "adapter.init_lora_weights=false", "checkpoint.save_every=1"), false, quiet()));
        assertTrue(e.getMessage().contains("optimizer.lr"), e.getMessage());
    }

    @Test
    void refusesToOverwriteARunWithoutResume() {
        Path out = tmp.resolve("twice");
        TrainingJob.run(recipe(out, "training.max_steps=2"), false, quiet());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingJob.run(recipe(out, "training.max_steps=2"), false, quiet()));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
    }

    /** A run killed with SIGKILL mid-way and resumed gives, at every later step, the uninterrupted run's loss. */
    @Test
    void killNineAndResumeReproducesTheUninterruptedRun() throws Exception {
        String[] common = {"training.max_steps=14", "training.gradient_accumulation_steps=2", "optimizer.lr=0.005",
            "adapter.lora_dropout=0.1", "schedule.warmup_steps=3", "checkpoint.save_every=1", "checkpoint.keep_last=2"};
        Path straight = tmp.resolve("straight");
        TrainingJob.run(recipe(straight, common), false, quiet());
        List<Double> want = losses(straight);

        Path killed = tmp.resolve("killed");
        Recipe r = recipe(killed, common);
        Path yaml = tmp.resolve("killed.yaml");
        RecipeLoader.save(r, yaml);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-modules=jdk.incubator.vector",
                "-Dlora4j.cache=" + tmp.resolve("cache"), "-cp", System.getProperty("java.class.path"),
                "org.lora4j.trainer.cli.Lora4j", "train", "--recipe", yaml.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("killed.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (CheckpointDir.latest(killed).map(CheckpointDir::stepOf).orElse(0L) < 4 && p.isAlive()
                && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(p.isAlive(), "the training process ended before it could be killed: "
                + Files.readString(tmp.resolve("killed.log")));
        p.destroyForcibly(); // SIGKILL
        p.waitFor();
        long resumedAt = CheckpointDir.latest(killed).map(CheckpointDir::stepOf).orElseThrow();
        assertTrue(resumedAt < 14, "killed too late to test anything");

        TrainingJob.run(RecipeLoader.load(yaml, List.of()), true, quiet());
        List<Double> got = losses(killed);
        assertEquals(want.size(), got.size(), "metrics of the resumed run: " + got);
        for (int i = 0; i < want.size(); i++) {
            assertEquals(want.get(i), got.get(i), 0.0, "loss at step " + (i + 1) + " (resumed after step " + resumedAt + ")");
        }
        TreeMap<String, float[]> a = adapterTensors(straight.resolve("adapter"));
        TreeMap<String, float[]> b = adapterTensors(killed.resolve("adapter"));
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k), b.get(k), k);
        }
    }

    static TreeMap<String, float[]> adapterTensors(Path dir) {
        TreeMap<String, float[]> m = new TreeMap<>();
        try (var f = org.lora4j.adapters.safetensors.SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
            for (String n : f.names()) {
                m.put(n, f.readFloat32(n));
            }
        }
        return m;
    }

    @Test
    void adapterOnDifferentBaseIsAClearError() throws Exception {
        Path out = tmp.resolve("mismatch");
        TrainingJob.run(recipe(out, "training.max_steps=1"), false, quiet());
        Path other = tmp.resolve("other-base");
        TinyModelGenerator.write(other, Architecture.LLAMA, new TinyModelGenerator.Size(48, 2, 4, 2, 64, 512, 128), 9,
                DType.F32);
        try (LanguageModel lm = LanguageModel.load(other)) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> lm.withAdapter(out.resolve("adapter")));
            assertTrue(e.getMessage().contains("q_proj") && e.getMessage().contains("48"), e.getMessage());
        }
    }
}
