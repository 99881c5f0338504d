package org.lora4j.trainer.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.trainer.schedule.ScheduleType;

class RecipeLoaderTest {

    static final Path EXAMPLE = Path.of(System.getProperty("basedir", "."))
            .resolve("../recipes/examples/tiny_lora.yaml").normalize();
    static final String MINIMAL = "model:\n  path: models/m\ndata:\n  train: data/train.jsonl\n";

    @TempDir
    Path tmp;

    static Recipe parse(String yaml, String... overrides) {
        return RecipeLoader.parse(yaml, "r.yaml", List.of(overrides));
    }

    static String error(String yaml, String... overrides) {
        return assertThrows(RecipeException.class, () -> parse(yaml, overrides)).getMessage();
    }

    static void assertContains(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
        }
    }

    @Test
    void exampleParses() {
        Recipe r = RecipeLoader.load(EXAMPLE, List.of());
        assertEquals(new ModelSection("runs/tiny-llama", "float32"), r.model());
        assertEquals(new AdapterSection("lora", 8, 16, 0.05, List.of("q_proj", "k_proj", "v_proj", "o_proj"), null,
                null, false, "true"), r.adapter());
        assertEquals(new DataSection("path/to/train.jsonl", null, 0.0, "auto", 512, false, "completion", null),
                r.data());
        assertEquals(new OptimizerSection(2e-4, 0, 0.9, 0.999, 1e-8, 1.0), r.optimizer());
        assertEquals(new ScheduleSection(ScheduleType.COSINE, 10, 0), r.schedule());
        assertEquals(new TrainingSection(100, 1, 4, 1, 42, 50, 0), r.training());
        assertEquals(new CheckpointSection("runs/tiny-lora", 50, 2, "auto"), r.checkpoint());
        assertEquals(new LoggingSection(10, "metrics.jsonl"), r.logging());
        assertEquals(2.0, r.adapter().scaling(), 0.0);
    }

    @Test
    void exampleSpellsOutEverySectionAndKey() throws Exception {
        JsonNode root = new YAMLMapper().readTree(Files.readString(EXAMPLE));
        assertEquals(RecipeLoader.keysOf(Recipe.class), iterToList(root.fieldNames()));
        for (var c : Recipe.class.getRecordComponents()) {
            Set<String> expected = new TreeSet<>(RecipeLoader.keysOf(c.getType()));
            expected.remove("target_regex"); // the alternative to target_modules, shown in a comment
            assertEquals(expected, new TreeSet<>(iterToList(root.get(c.getName()).fieldNames())), c.getName());
        }
    }

    static List<String> iterToList(java.util.Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void missingSectionsAndKeysGetDefaults() {
        Recipe r = parse(MINIMAL + "optimizer:\n  lr: 1.0e-3\nadapter:\n");
        assertEquals(ModelSection.DEFAULT.dtype(), r.model().dtype());
        assertEquals(AdapterSection.DEFAULT, r.adapter());
        assertEquals(new OptimizerSection(1e-3, 0, 0.9, 0.999, 1e-8, 1.0), r.optimizer());
        assertEquals(ScheduleSection.DEFAULT, r.schedule());
        assertEquals(TrainingSection.DEFAULT, r.training());
        assertEquals(CheckpointSection.DEFAULT, r.checkpoint());
        assertEquals(LoggingSection.DEFAULT, r.logging());
        assertEquals(new DataSection("data/train.jsonl", null, 0, "auto", 512, false, "completion", null), r.data());
        // the documented defaults, in case a DEFAULT constant drifts
        assertEquals(new AdapterSection("lora", 8, 16, 0.05, List.of("q_proj", "k_proj", "v_proj", "o_proj"), null,
                null, false, "true"), AdapterSection.DEFAULT);
        assertEquals(new TrainingSection(0, 1, 4, 1, 42, 0, 0), TrainingSection.DEFAULT);
        assertEquals(new CheckpointSection("runs/out", 0, 2, "never"), CheckpointSection.DEFAULT);
    }

    @Test
    void requiredKeys() {
        assertContains(error("data:\n  train: t\n"), "r.yaml: model.path is required");
        assertContains(error("model:\n  path: m\n"), "data.train is required");
        assertContains(error(""), "model.path is required");
    }

    @Test
    void unknownKeyNamesKeyLineAndValidKeys() {
        String msg = error(MINIMAL + "optimizer:\n  lr: 1.0e-3\n  learning_rate: 0.1\n");
        assertEquals("r.yaml line 7: unknown key 'optimizer.learning_rate'; valid keys of optimizer: lr,"
                + " weight_decay, beta1, beta2, eps, max_grad_norm", msg);
        msg = error(MINIMAL + "optimiser:\n  lr: 1.0e-3\n");
        assertEquals("r.yaml line 5: unknown key 'optimiser'; valid sections: model, adapter, data, optimizer,"
                + " schedule, training, checkpoint, logging", msg);
    }

    @Test
    void overrides() {
        Recipe r = parse(MINIMAL + "adapter:\n  r: 4\n", "optimizer.lr=1e-3", "adapter.r=16",
                "adapter.target_modules=[q_proj, v_proj]", "adapter.layers_to_transform=[0,2]",
                "schedule.type=linear", "logging.log_every=5", "data.validation=data/val.jsonl",
                "model.path=other/model", "adapter.use_rslora=true");
        assertEquals(1e-3, r.optimizer().lr(), 0.0);
        assertEquals(16, r.adapter().r());
        assertEquals(List.of("q_proj", "v_proj"), r.adapter().targetModules());
        assertEquals(List.of(0, 2), r.adapter().layersToTransform());
        assertEquals(ScheduleType.LINEAR, r.schedule().type());
        assertEquals(5, r.logging().logEvery());
        assertEquals("data/val.jsonl", r.data().validation());
        assertEquals("other/model", r.model().path());
        assertTrue(r.adapter().useRslora());
        // a whole section as a YAML mapping, and a value back to null
        r = parse("model:\n  path: m\ndata:\n  train: t\n  validation: v\n", "training={max_steps: 7, batch_size: 2}",
                "data.validation=");
        assertEquals(new TrainingSection(7, 1, 2, 1, 42, 0, 0), r.training());
        assertNull(r.data().validation());
        // a single string becomes a one-element list
        assertEquals(List.of("all-linear"), parse(MINIMAL, "adapter.target_modules=all-linear").adapter()
                .targetModules());
    }

    @Test
    void badOverrides() {
        assertEquals("--set optimizer.learning_rate=1: unknown key 'optimizer.learning_rate'; valid keys of"
                + " optimizer: lr, weight_decay, beta1, beta2, eps, max_grad_norm",
                error(MINIMAL, "optimizer.learning_rate=1"));
        assertContains(error(MINIMAL, "trainer.steps=1"), "--set trainer.steps=1: unknown key 'trainer'",
                "valid sections: model, adapter");
        assertContains(error(MINIMAL, "optimizer.lr"), "expected key.path=value");
        assertContains(error(MINIMAL, "optimizer..lr=1"), "expected key.path=value");
        assertEquals("--set optimizer.lr.x=1: optimizer.lr must be a number, found a section {\"x\":1}",
                error(MINIMAL, "optimizer.lr.x=1"));
        assertEquals("--set optimizer.lr.x=1: optimizer.lr is a value (0.1), not a section with keys",
                error(MINIMAL + "optimizer:\n  lr: 0.1\n", "optimizer.lr.x=1"));
        assertEquals("--set data.train=a: b: data.train must be a string, found a section {\"a\":\"b\"}",
                error(MINIMAL, "data.train=a: b"));
        assertEquals("--set optimizer.lr=-1: optimizer.lr must be > 0, found -1", error(MINIMAL, "optimizer.lr=-1"));
        assertEquals("--set adapter.r=abc: adapter.r must be an integer, found 'abc'", error(MINIMAL, "adapter.r=abc"));
    }

    @Test
    void badValuesNameKeyLineExpectedAndFound() {
        assertEquals("r.yaml line 6: optimizer.lr must be > 0, found -1", error(MINIMAL + "optimizer:\n  lr: -1\n"));
        assertEquals("r.yaml line 6: adapter.r must be an integer, found 'abc'", error(MINIMAL + "adapter:\n  r: abc\n"));
        assertEquals("r.yaml line 6: adapter.r must be an integer, found 2.5", error(MINIMAL + "adapter:\n  r: 2.5\n"));
        assertEquals("r.yaml line 6: schedule.type must be one of constant, linear, cosine, found 'cosin'",
                error(MINIMAL + "schedule:\n  type: cosin\n"));
        assertEquals("r.yaml line 6: training.batch_size must be an integer, found null",
                error(MINIMAL + "training:\n  batch_size: null\n"));
        assertEquals("r.yaml line 6: adapter.lora_dropout must be in [0, 1), found 1",
                error(MINIMAL + "adapter:\n  lora_dropout: 1\n"));
        assertEquals("r.yaml line 7: adapter.layers_to_transform[1] must be >= 0, found -2",
                error(MINIMAL + "adapter:\n  r: 4\n  layers_to_transform: [0, -2]\n"));
        assertEquals("r.yaml line 6: adapter.init_lora_weights must be one of true, gaussian, false, found 'pissa'",
                error(MINIMAL + "adapter:\n  init_lora_weights: pissa\n"));
        assertEquals("r.yaml line 3: model.dtype must be one of float32, float64, found 'bfloat16'",
                error("model:\n  path: m\n  dtype: bfloat16\ndata:\n  train: t\n"));
        assertContains(error(MINIMAL + "optimizer: 3\n"), "r.yaml line 5: optimizer must be a section with the keys"
                + " lr, weight_decay", "found 3");
        assertContains(error(MINIMAL + "adapter:\n  target_modules: [q_proj]\n  target_regex: '.*_proj'\n"),
                "r.yaml line 7: give adapter.target_modules or adapter.target_regex, not both");
        assertContains(error(MINIMAL + "adapter:\n  target_regex: '(q_proj'\n"), "r.yaml line 6:",
                "adapter.target_regex is not a valid regular expression");
        assertContains(error(MINIMAL + "schedule:\n  type: constant\n  min_lr_ratio: 0.1\n"),
                "schedule.min_lr_ratio must be 0 with schedule.type constant");
        assertContains(error(MINIMAL + "model:\n  path: x\n"), "r.yaml line 5: not valid YAML", "Duplicate");
        assertContains(error(MINIMAL + "optimizer:\n  lr: [1\n"), "r.yaml line", "not valid YAML");
        assertContains(error("- a\n- b\n"), "a recipe is a mapping of sections");
    }

    @Test
    void lenientSpellings() {
        Recipe r = parse(MINIMAL + "schedule:\n  type: COSINE\nadapter:\n  init_lora_weights: false\n"
                + "optimizer:\n  lr: 1e-4\n");
        assertEquals(ScheduleType.COSINE, r.schedule().type());
        assertEquals("false", r.adapter().initLoraWeights());
        assertEquals(1e-4, r.optimizer().lr(), 0.0);
    }

    @Test
    void targetRegexReplacesTargetModules() {
        Recipe r = parse(MINIMAL + "adapter:\n  target_regex: '.*\\.(q|v)_proj'\n");
        assertNull(r.adapter().targetModules());
        assertEquals(".*\\.(q|v)_proj", r.adapter().targetRegex());
        assertEquals(r, RecipeLoader.parse(RecipeLoader.toYaml(r), "resolved", List.of()));
    }

    @Test
    void toYamlRoundTrips() {
        Recipe example = RecipeLoader.load(EXAMPLE, List.of());
        String yaml = RecipeLoader.toYaml(example);
        assertEquals(example, RecipeLoader.parse(yaml, "resolved", List.of()));
        Recipe odd = parse(MINIMAL, "model.path=123", "data.text_field=null", "data.validation='null'",
                "adapter.layers_to_transform=[3]", "adapter.target_modules=all-linear", "optimizer.eps=1e-12",
                "optimizer.lr=0.1", "schedule.min_lr_ratio=0.1", "training.seed=-5", "data.train='a: b #c'");
        assertEquals("123", odd.model().path());
        assertEquals("a: b #c", odd.data().train());
        assertEquals("null", odd.data().validation());
        assertEquals(odd, RecipeLoader.parse(RecipeLoader.toYaml(odd), "resolved", List.of()));
        // every key is written out
        assertContains(yaml, "max_grad_norm:", "layers_to_transform:", "text_field:", "type: cosine");
    }

    @Test
    void saveAndHash() {
        Recipe r = RecipeLoader.load(EXAMPLE, List.of());
        Path file = tmp.resolve("out/recipe.yaml");
        RecipeLoader.save(r, file);
        assertEquals(r, RecipeLoader.load(file, List.of()));
        assertEquals(RecipeLoader.hash(r), RecipeLoader.hash(RecipeLoader.load(file, List.of())));
        assertEquals(64, RecipeLoader.hash(r).length());
        assertNotEquals(RecipeLoader.hash(r), RecipeLoader.hash(RecipeLoader.load(EXAMPLE, List.of("adapter.r=4"))));
        String msg = assertThrows(RecipeException.class, () -> RecipeLoader.load(tmp.resolve("nope.yaml"), List.of()))
                .getMessage();
        assertContains(msg, "nope.yaml does not exist");
    }
}
