package org.lora4j.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.trainer.recipe.RecipeLoader;
import picocli.CommandLine;

/** {@code lora4j recipes} and {@code lora4j recipes cp}, on a recipes folder of their own and on the shipped one. */
class RecipesCommandTest {
    @TempDir
    Path tmp;

    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cl = Lora4j.commandLine();
        if (!cl.getSubcommands().containsKey("recipes")) {
            cl.addSubcommand("recipes", new RecipesCommand());
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeEach
    void writeRecipes() throws Exception {
        dir = tmp.resolve("recipes");
        Files.createDirectories(dir.resolve("fam"));
        Files.createDirectories(dir.resolve("other"));
        Files.writeString(dir.resolve("fam/1b_lora.yaml"), """
                # Fam-1B: a LoRA recipe for tests.
                #   scripts/lora4j train --recipe recipes/fam/1b_lora.yaml
                model: {path: models/Fam-1B}
                data: {train: data/d}
                """);
        Files.writeString(dir.resolve("fam/1b_full.yaml"), """
                #
                # Fam-1B, every weight trained.
                model: {path: models/Fam-1B}
                adapter: {method: full}
                data: {train: data/d}
                """);
        Files.writeString(dir.resolve("other/broken_lora.yaml"), """
                # Broken on purpose.
                model: {path: models/x}
                data: {train: data/d}
                optimizer: {lr: fast}
                """);
        Files.writeString(dir.resolve("README.md"), "not a recipe");
    }

    @Test
    void listsNameModelMethodAndDescription() {
        Run r = run("recipes", "--dir", dir.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).matches("NAME +MODEL +METHOD +DESCRIPTION"), lines.get(0));
        assertTrue(lines.get(1).matches("fam/1b_full +models/Fam-1B +full +Fam-1B, every weight trained\\."),
                lines.get(1));
        assertTrue(lines.get(2).matches("fam/1b_lora +models/Fam-1B +lora +Fam-1B: a LoRA recipe for tests\\."),
                lines.get(2));
        assertTrue(lines.get(3).startsWith("other/broken_lora ") && lines.get(3).contains("does not parse")
                && lines.get(3).contains("optimizer.lr"), lines.get(3));
        assertTrue(r.out().contains("3 recipes in " + dir), r.out());
    }

    @Test
    void copiesARecipeWithItsComments() throws Exception {
        Path target = tmp.resolve("mine/my_recipe.yaml");
        Run r = run("recipes", "cp", "fam/1b_lora", target.toString(), "--dir", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(Files.readAllBytes(dir.resolve("fam/1b_lora.yaml")), Files.readAllBytes(target));
        assertTrue(r.out().contains("lora4j train --recipe " + target), r.out());
        RecipeLoader.load(target, List.of());

        Files.createDirectories(tmp.resolve("into"));                     // a folder: the recipe keeps its name
        assertEquals(0, run("recipes", "--dir", dir.toString(), "cp", "1b_full.yaml",
                tmp.resolve("into").toString()).code());
        assertTrue(Files.isRegularFile(tmp.resolve("into/1b_full.yaml")));
    }

    @Test
    void cpRefusesToOverwriteWithoutForce() throws Exception {
        Path target = tmp.resolve("edited.yaml");
        Files.writeString(target, "# my edits\n");
        Run r = run("recipes", "cp", "fam/1b_lora", target.toString(), "--dir", dir.toString());
        assertEquals(Lora4j.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().contains(target + " already exists") && r.err().contains("--force"), r.err());
        assertEquals("# my edits\n", Files.readString(target));

        Run forced = run("recipes", "cp", "fam/1b_lora", target.toString(), "--force", "--dir", dir.toString());
        assertEquals(0, forced.code(), forced.err());
        assertArrayEquals(Files.readAllBytes(dir.resolve("fam/1b_lora.yaml")), Files.readAllBytes(target));
    }

    @Test
    void unknownNameListsTheRecipes() {
        Run r = run("recipes", "cp", "fam/7b_lora", tmp.resolve("x.yaml").toString(), "--dir", dir.toString());
        assertEquals(Lora4j.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().contains("no recipe named 'fam/7b_lora'") && r.err().contains("fam/1b_lora, "), r.err());
        assertTrue(!Files.exists(tmp.resolve("x.yaml")));
    }

    @Test
    void findsTheShippedRecipesWithoutDir() {
        Run r = run("recipes");                      // from trainer/target/classes up to the checkout's recipes/
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("smollm2/135m_lora") && r.out().contains("models/SmolLM2-135M-Instruct"), r.out());
        assertTrue(r.out().contains("llama3.1/8b_lora"), r.out());
        assertTrue(!r.out().contains("does not parse"), r.out());
    }

    @Test
    void homePropertyComesFirst() throws Exception {
        Path home = tmp.resolve("home");
        Files.createDirectories(home);
        Files.move(dir, home.resolve("recipes"));
        String before = System.getProperty(RecipesCommand.HOME_PROPERTY);
        System.setProperty(RecipesCommand.HOME_PROPERTY, home.toString());
        try {
            Run r = run("recipes");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("3 recipes in " + home.resolve("recipes")), r.out());
            Run bad = run("recipes", "--dir", tmp.resolve("nowhere").toString());
            assertEquals(Lora4j.EXIT_BAD_INPUT, bad.code());
            assertTrue(bad.err().contains("is not a folder"), bad.err());
        } finally {
            if (before == null) {
                System.clearProperty(RecipesCommand.HOME_PROPERTY);
            } else {
                System.setProperty(RecipesCommand.HOME_PROPERTY, before);
            }
        }
        assertEquals(new String(Files.readAllBytes(home.resolve("recipes/fam/1b_lora.yaml")), StandardCharsets.UTF_8)
                .lines().findFirst().orElseThrow(), "# Fam-1B: a LoRA recipe for tests.");
    }
}
