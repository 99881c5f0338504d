package org.lora4j.trainer.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.lora4j.trainer.recipe.Recipe;
import org.lora4j.trainer.recipe.RecipeException;
import org.lora4j.trainer.recipe.RecipeLoader;
import org.lora4j.trainer.state.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code lora4j recipes} lists the shipped recipes and {@code lora4j recipes cp NAME FILE} copies one to edit (as
 * torchtune's {@code tune ls} and {@code tune cp}). A recipe's name is its path under {@code recipes/} without
 * {@code .yaml}, e.g. {@code smollm2/135m_lora}; its description is the first line of its header comment.
 */
@Command(name = "recipes", mixinStandardHelpOptions = true,
        description = {"List the shipped recipes: name, model folder, method and the first line of the header.",
            "The recipes folder is --dir if given; else <lora4j.home>/recipes when the system property lora4j.home "
                + "is set; else the recipes/ folder of the source checkout the lora4j jar was built in "
                + "(found by walking up from trainer/target/lora4j.jar); else ./recipes."},
        subcommands = RecipesCommand.Copy.class,
        footer = {"", "Examples:",
            "  lora4j recipes",
            "  lora4j recipes cp smollm2/135m_lora my_recipe.yaml",
            "  lora4j train --recipe my_recipe.yaml"})
public final class RecipesCommand implements Callable<Integer> {

    /** The system property naming the lora4j installation (the folder that holds recipes/). */
    public static final String HOME_PROPERTY = "lora4j.home";

    /** One shipped recipe; {@code method} and {@code model} are null when the file does not parse. */
    public record Entry(String name, Path file, String model, String method, String description, String error) {
    }

    /** {@code --dir}, shared by {@code recipes} and {@code recipes cp} (given before or after {@code cp}). */
    static final class DirOption {
        @Option(names = "--dir", paramLabel = "DIR", description = "The recipes folder (default: see lora4j recipes"
                + " --help).")
        Path dir;

        Path resolve() {
            return locate(dir);
        }
    }

    @Spec
    CommandSpec spec;

    @Mixin
    DirOption dir = new DirOption();

    @Override
    public Integer call() {
        Path root = dir.resolve();
        List<Entry> entries = list(root);
        PrintWriter out = spec.commandLine().getOut();
        int nw = Math.max(4, entries.stream().mapToInt(x -> x.name().length()).max().orElse(0));
        int mw = Math.max(5, entries.stream().mapToInt(x -> x.model() == null ? 1 : x.model().length()).max()
                .orElse(0));
        String fmt = "%-" + nw + "s  %-" + mw + "s  %-6s  %s%n";
        out.printf(Locale.ROOT, fmt, "NAME", "MODEL", "METHOD", "DESCRIPTION");
        for (Entry x : entries) {
            out.printf(Locale.ROOT, fmt, x.name(), x.model() == null ? "-" : x.model(),
                    x.method() == null ? "-" : x.method(),
                    x.error() == null ? x.description() : "does not parse: " + x.error());
        }
        out.printf(Locale.ROOT, "%n%d recipes in %s%nCopy one to edit: lora4j recipes cp NAME FILE%n", entries.size(),
                root);
        out.flush();
        return 0;
    }

    /** {@code lora4j recipes cp NAME FILE}. */
    @Command(name = "cp", mixinStandardHelpOptions = true,
            description = "Copy a shipped recipe (comments included) to FILE, to edit and train with.",
            footer = {"", "Examples:",
                "  lora4j recipes cp smollm2/135m_lora my_recipe.yaml",
                "  lora4j recipes cp qwen2.5/0.5b_lora configs/          # keeps the name: configs/0.5b_lora.yaml"})
    static final class Copy implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        DirOption dir = new DirOption();

        @ParentCommand
        RecipesCommand parent;

        @Parameters(index = "0", paramLabel = "NAME", description = "A recipe name as lora4j recipes lists it"
                + " (e.g. smollm2/135m_lora), or its file name when that is unique (135m_lora).")
        String name;

        @Parameters(index = "1", paramLabel = "FILE", description = "The new file, or a folder to copy into.")
        Path file;

        @Option(names = "--force", description = "Overwrite FILE if it exists.")
        boolean force;

        @Override
        public Integer call() {
            Path root = locate(dir.dir != null || parent == null ? dir.dir : parent.dir.dir);
            Entry from = find(list(root), name, root);
            Path target = Files.isDirectory(file) ? file.resolve(from.file().getFileName()) : file;
            if (Files.exists(target) && !force) {
                throw new IllegalArgumentException(target + " already exists; pass --force to overwrite it, or give"
                        + " another file name");
            }
            try {
                AtomicFiles.write(target, Files.readAllBytes(from.file()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + from.file() + ": " + e, e);
            }
            PrintWriter out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "copied %s to %s%nedit it, then: lora4j plan --recipe %s && lora4j train"
                    + " --recipe %s%n", from.name(), target, target, target);
            out.flush();
            return 0;
        }
    }

    /**
     * The recipes folder: {@code explicit} if not null; else {@code <lora4j.home>/recipes}; else the first
     * {@code recipes/} folder at most four levels above the jar (or classes folder) this class was loaded from, which
     * finds the checkout's recipes/ from trainer/target/lora4j.jar; else {@code ./recipes}.
     */
    public static Path locate(Path explicit) {
        if (explicit != null) {
            return requireFolder(explicit, "--dir " + explicit);
        }
        String home = System.getProperty(HOME_PROPERTY);
        if (home != null && !home.isBlank()) {
            return requireFolder(Path.of(home).resolve("recipes"), "-D" + HOME_PROPERTY + "=" + home);
        }
        List<Path> tried = new ArrayList<>();
        Path code = codeLocation();
        if (code != null) {
            Path p = code.toAbsolutePath().normalize();
            for (int up = 0; up < 4 && p != null; up++, p = p.getParent()) {
                Path candidate = p.resolve("recipes");
                if (Files.isDirectory(candidate)) {
                    return candidate;
                }
                tried.add(candidate);
            }
        }
        Path cwd = Path.of("recipes").toAbsolutePath();
        if (Files.isDirectory(cwd)) {
            return cwd;
        }
        tried.add(cwd);
        throw new IllegalArgumentException("no recipes folder found; looked in " + tried + ". Pass --dir DIR, or"
                + " run java with -D" + HOME_PROPERTY + "=<the folder that holds recipes/>");
    }

    /** Every {@code *.yaml} under {@code root}, by name. */
    public static List<Entry> list(Path root) {
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().endsWith(".yaml")
                    && !f.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e, e);
        }
        List<Entry> out = new ArrayList<>();
        for (Path f : files) {
            String rel = root.relativize(f).toString().replace('\\', '/');
            String name = rel.substring(0, rel.length() - ".yaml".length());
            String description = description(f);
            try {
                Recipe r = RecipeLoader.load(f, List.of());
                out.add(new Entry(name, f, r.model().path(), r.adapter().method(), description, null));
            } catch (RecipeException e) {
                out.add(new Entry(name, f, null, null, description, e.getMessage()));
            }
        }
        return out;
    }

    /** The first non-empty line of the comment block that opens the file, without its '#'; "" when none. */
    public static String description(Path file) {
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String s = line.strip();
                if (!s.startsWith("#")) {
                    return "";
                }
                s = s.substring(1).strip();
                if (!s.isEmpty()) {
                    return s;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
        return "";
    }

    /** By exact name, or by file name when exactly one recipe has it; ".yaml" may be given. */
    static Entry find(List<Entry> entries, String name, Path root) {
        String n = name.endsWith(".yaml") ? name.substring(0, name.length() - ".yaml".length()) : name;
        for (Entry e : entries) {
            if (e.name().equals(n)) {
                return e;
            }
        }
        List<Entry> byFile = entries.stream().filter(e -> e.name().endsWith("/" + n)).toList();
        if (byFile.size() == 1) {
            return byFile.get(0);
        }
        List<String> names = entries.stream().map(Entry::name).toList();
        throw new IllegalArgumentException("no recipe " + (byFile.isEmpty() ? "named '" + name + "'"
                : "'" + name + "' alone: it names " + byFile.stream().map(Entry::name).toList()) + " in " + root
                + "; available: " + String.join(", ", names) + " (see lora4j recipes)");
    }

    private static Path requireFolder(Path dir, String from) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " (from " + from + ") is not a folder; expected the recipes"
                    + " folder, which holds <family>/<size>_<method>.yaml files");
        }
        return dir;
    }

    private static Path codeLocation() {
        try {
            var source = RecipesCommand.class.getProtectionDomain().getCodeSource();
            return source == null ? null : Path.of(source.getLocation().toURI());
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            return null; // not loaded from a file: fall back to ./recipes
        }
    }
}
