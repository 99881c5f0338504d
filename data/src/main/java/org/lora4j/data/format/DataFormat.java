package org.lora4j.data.format;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The shape of a training example, told apart by its columns (the dataset layouts that TRL's {@code SFTTrainer}
 * and Axolotl accept):
 * <ul>
 *   <li>{@link #TEXT}: {@code text} (plain completion / continued pretraining);</li>
 *   <li>{@link #PROMPT_COMPLETION}: {@code prompt} + {@code completion};</li>
 *   <li>{@link #ALPACA}: {@code instruction} + {@code output}, optional {@code input} (Stanford Alpaca);</li>
 *   <li>{@link #MESSAGES}: {@code messages}, a list of {@code {role, content}} (OpenAI / HF chat);</li>
 *   <li>{@link #SHAREGPT}: {@code conversations}, a list of {@code {from, value}} (ShareGPT / Vicuna).</li>
 * </ul>
 * All but {@code TEXT} take an optional {@code system} column, rendered as a leading system message.
 *
 * <p>Detection: when exactly one of the four structured formats has its required columns, it is chosen, even if a
 * {@code text} column exists too (tatsu-lab/alpaca ships a pre-rendered {@code text} beside its Alpaca columns);
 * {@code TEXT} is chosen only when no structured format matches; two structured matches are an error asking for
 * the format to be named.
 */
public enum DataFormat {
    TEXT("text", List.of(Columns.TEXT), List.of()),
    PROMPT_COMPLETION("prompt_completion", List.of(Columns.PROMPT, Columns.COMPLETION), List.of(Columns.SYSTEM)),
    ALPACA("alpaca", List.of(Columns.INSTRUCTION, Columns.OUTPUT), List.of(Columns.INPUT, Columns.SYSTEM)),
    MESSAGES("messages", List.of(Columns.MESSAGES), List.of(Columns.SYSTEM)),
    SHAREGPT("sharegpt", List.of(Columns.CONVERSATIONS), List.of(Columns.SYSTEM));

    /** The recipe value that asks for detection. */
    public static final String AUTO = "auto";

    /** Column names, as the formats' source datasets spell them. */
    public static final class Columns {
        public static final String TEXT = "text";
        public static final String PROMPT = "prompt";
        public static final String COMPLETION = "completion";
        public static final String INSTRUCTION = "instruction";
        public static final String INPUT = "input";
        public static final String OUTPUT = "output";
        public static final String MESSAGES = "messages";
        public static final String CONVERSATIONS = "conversations";
        public static final String SYSTEM = "system";

        private Columns() {}
    }

    private final String recipeName;
    private final List<String> required;
    private final List<String> optional;

    DataFormat(String recipeName, List<String> required, List<String> optional) {
        this.recipeName = recipeName;
        this.required = required;
        this.optional = optional;
    }

    /** The name used in recipes ({@code format: alpaca}). */
    public String recipeName() {
        return recipeName;
    }

    public List<String> requiredColumns() {
        return required;
    }

    public List<String> optionalColumns() {
        return optional;
    }

    /** Whether {@code columns} hold every required column of this format. */
    public boolean matches(Collection<String> columns) {
        return columns.containsAll(required);
    }

    /**
     * The format of a dataset with {@code columns}; {@code where} names the dataset in errors. Throws
     * {@link IllegalArgumentException} listing the columns and what each format needs when none matches, or naming
     * the candidates when several structured formats match.
     */
    public static DataFormat detect(Collection<String> columns, String where) {
        List<DataFormat> structured = new ArrayList<>();
        for (DataFormat f : values()) {
            if (f != TEXT && f.matches(columns)) structured.add(f);
        }
        if (structured.size() == 1) return structured.get(0);
        if (structured.size() > 1) {
            throw new IllegalArgumentException(where + " has the columns of several formats: "
                    + structured.stream().map(f -> f.recipeName + " (" + String.join(", ", f.required) + ")")
                            .collect(Collectors.joining(", "))
                    + "; columns: " + listColumns(columns) + ". Fix: name the format in the recipe (format: "
                    + structured.get(0).recipeName + ") or drop the columns that do not belong");
        }
        if (TEXT.matches(columns)) return TEXT;
        throw new IllegalArgumentException("cannot tell the format of " + where + " from its columns: "
                + listColumns(columns) + ". Expected one of: " + needs() + ". Fix: rename the columns, or name the"
                + " format in the recipe (format: " + names() + ") after renaming");
    }

    /**
     * The recipe's {@code format}: {@code auto} (or null) detects it from {@code columns}; a named format must find
     * its required columns there. {@code where} names the dataset in errors.
     */
    public static DataFormat parse(String name, Collection<String> columns, String where) {
        Optional<DataFormat> named = named(name);
        if (named.isEmpty()) return detect(columns, where);
        DataFormat f = named.get();
        List<String> missing = f.required.stream().filter(c -> !columns.contains(c)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("format " + f.recipeName + " needs the column(s) "
                    + String.join(", ", missing) + " but " + where + " has: " + listColumns(columns) + ". "
                    + f.recipeName + " needs " + f.describeColumns() + ". Fix: rename the columns, or use format: "
                    + AUTO + " to detect the format");
        }
        return f;
    }

    /**
     * The format a recipe names, empty for {@code auto} or null; throws {@link IllegalArgumentException} for an
     * unknown name, listing the valid ones.
     */
    public static Optional<DataFormat> named(String name) {
        if (name == null || name.equals(AUTO)) return Optional.empty();
        for (DataFormat f : values()) {
            if (f.recipeName.equals(name)) return Optional.of(f);
        }
        String hint = "";
        for (DataFormat f : values()) {
            if (f.recipeName.equalsIgnoreCase(name.trim().replace('-', '_'))) {
                hint = " (did you mean " + f.recipeName + "?)";
            }
        }
        throw new IllegalArgumentException("unknown data format '" + name + "'" + hint + "; expected one of: " + AUTO
                + ", " + names());
    }

    private String describeColumns() {
        String s = String.join(" + ", required);
        return optional.isEmpty() ? s : s + " (optional: " + String.join(", ", optional) + ")";
    }

    private static String needs() {
        List<String> parts = new ArrayList<>();
        for (DataFormat f : values()) parts.add(f.recipeName + " needs " + f.describeColumns());
        return String.join("; ", parts);
    }

    private static String names() {
        List<String> parts = new ArrayList<>();
        for (DataFormat f : values()) parts.add(f.recipeName);
        return String.join(" | ", parts);
    }

    private static String listColumns(Collection<String> columns) {
        if (columns.isEmpty()) return "(none)";
        Set<String> sorted = new TreeSet<>(columns);
        return String.join(", ", sorted);
    }

    @Override
    public String toString() {
        return recipeName;
    }
}
