package org.lora4j.trainer.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.lora4j.trainer.cli.RecipesCommand;
import org.lora4j.trainer.plan.KnownModels;
import org.lora4j.trainer.plan.MemoryPlan;
import org.lora4j.trainer.plan.Planner;

/**
 * Every recipe under recipes/ parses, and every model recipe ({@code recipes/<family>/<size>_<method>.yaml}, outside
 * examples/ and demo/) has a header with the exact download, plan and train commands and the memory the planner
 * estimates for it today. The working directory of the trainer's tests is trainer/.
 */
class ShippedRecipesTest {
    static final Path ROOT = Path.of("..", "recipes");

    static List<Path> recipes() throws IOException {
        try (Stream<Path> s = Files.walk(ROOT)) {
            return s.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    static String rel(Path f) {
        return ROOT.relativize(f).toString().replace('\\', '/');
    }

    static boolean isModelRecipe(Path f) {
        String r = rel(f);
        return !r.startsWith("examples/") && !r.startsWith("demo/");
    }

    static String header(Path f) throws IOException {
        return Files.readAllLines(f, StandardCharsets.UTF_8).stream().takeWhile(l -> l.startsWith("#"))
                .collect(Collectors.joining("\n"));
    }

    @Test
    void everyRecipeParses() throws IOException {
        assertTrue(Files.isDirectory(ROOT), ROOT.toAbsolutePath() + " is not the recipes folder");
        List<String> failures = new ArrayList<>();
        for (Path f : recipes()) {
            try {
                RecipeLoader.load(f, List.of());
            } catch (RuntimeException e) {
                failures.add(rel(f) + ": " + e.getMessage());
            }
            if (RecipesCommand.description(f).isEmpty()) {
                failures.add(rel(f) + ": no header comment (its first line is the description lora4j recipes shows)");
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void theModelRecipesAreShipped() throws IOException {
        List<String> names = recipes().stream().map(ShippedRecipesTest::rel).toList();
        for (String want : List.of("smollm2/135m_lora.yaml", "qwen2.5/0.5b_lora.yaml", "llama3.2/1b_lora.yaml",
                "llama3.1/8b_lora.yaml", "mistral/7b_lora.yaml")) {
            assertTrue(names.contains(want), want + " missing from " + names);
        }
    }

    @Test
    void modelRecipeHeadersGiveTheCommandsAndTheirPlannedMemory() throws IOException {
        List<Path> models = recipes().stream().filter(ShippedRecipesTest::isModelRecipe).toList();
        assertFalse(models.isEmpty());
        for (Path f : models) {
            String rel = rel(f);
            String where = "recipes/" + rel;
            Recipe r = RecipeLoader.load(f, List.of());
            String h = header(f);
            assertTrue(rel.matches("[a-z0-9.]+/[a-z0-9.]+_" + r.adapter().method() + "\\.yaml"),
                    where + " is not named <family>/<size>_" + r.adapter().method() + ".yaml");
            KnownModels.KnownModel known = KnownModels.forFolder(Path.of(r.model().path())).orElseThrow(
                    () -> new AssertionError(where + ": model.path " + r.model().path() + " is no known model"));
            assertEquals("models/" + known.folderName(), r.model().path(), where);
            assertTrue(h.contains("huggingface-cli download " + known.repo() + " --local-dir " + r.model().path()),
                    where + " header lacks the download command:\n" + h);
            for (String cmd : List.of("plan", "train")) {
                assertTrue(Pattern.compile("scripts/lora4j " + cmd + " +--recipe " + Pattern.quote(where) + "\\b")
                        .matcher(h).find(), where + " header lacks `scripts/lora4j " + cmd + " --recipe " + where + "`");
            }
            MemoryPlan plan = Planner.plan(known.config(), r);
            String total = "about " + MemoryPlan.human(plan.total());
            assertTrue(h.replace("\n# ", " ").contains(total), where + ": the header's memory is stale; `lora4j plan`"
                    + " now says " + total + "\n" + h);
            if (plan.total() > 16L << 30) {
                assertTrue(h.contains("LORA4J_MAX_OFFHEAP=" + plan.suggestedOffHeapGiB() + "G"), where
                        + " needs more than the launcher's 16G off-heap cap; its train command must raise it");
            }
        }
    }
}
