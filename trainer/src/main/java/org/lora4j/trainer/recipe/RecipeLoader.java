package org.lora4j.trainer.recipe;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.lora4j.trainer.schedule.ScheduleType;
import org.lora4j.trainer.state.AtomicFiles;

/**
 * Reads a YAML recipe into a {@link Recipe}: parse the YAML, apply {@code --set key.path=value} overrides, fill every
 * missing key from the sections' {@code DEFAULT}s, then bind onto the records (Jackson, snake_case, unknown keys are
 * errors). Every error names where the value came from ({@code recipe.yaml line 12} or {@code --set a.b=c}), the key
 * path, what was expected and what was found; an unknown key lists the valid keys of its section.
 */
public final class RecipeLoader {

    private static final PropertyNamingStrategies.NamingBase SNAKE =
            (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;

    private static final YAMLMapper YAML = YAMLMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .addModule(new SimpleModule().addSerializer(new StdSerializer<>(ScheduleType.class) {
                @Override
                public void serialize(ScheduleType v, JsonGenerator gen, SerializerProvider p) throws IOException {
                    gen.writeString(v.name().toLowerCase(Locale.ROOT));
                }
            }))
            .build();

    /** Section name → its defaults, in the order of the Recipe record. */
    private static final Map<String, Object> SECTION_DEFAULTS = sectionDefaults();

    private RecipeLoader() {
    }

    private static Map<String, Object> sectionDefaults() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", ModelSection.DEFAULT);
        m.put("adapter", AdapterSection.DEFAULT);
        m.put("data", DataSection.DEFAULT);
        m.put("optimizer", OptimizerSection.DEFAULT);
        m.put("schedule", ScheduleSection.DEFAULT);
        m.put("training", TrainingSection.DEFAULT);
        m.put("checkpoint", CheckpointSection.DEFAULT);
        m.put("logging", LoggingSection.DEFAULT);
        return m;
    }

    /** Reads the recipe file {@code yaml} and applies {@code overrides} ("a.b=c", as given to --set). */
    public static Recipe load(Path yaml, List<String> overrides) {
        String text;
        try {
            text = Files.readString(yaml, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new RecipeException("", "recipe " + yaml + " does not exist; pass a YAML recipe such as"
                    + " recipes/examples/tiny_lora.yaml", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read recipe " + yaml + ": " + e, e);
        }
        return parse(text, yaml.toString(), overrides);
    }

    /**
     * Parses recipe text.
     *
     * @param where     where the text came from, for error messages (a file name)
     * @param overrides "key.path=value" strings; the value is parsed as YAML (scalar, [list], or {mapping})
     */
    public static Recipe parse(String yaml, String where, List<String> overrides) {
        ObjectNode user = readRoot(yaml, where);
        Map<String, Integer> lines = keyLines(yaml);
        Map<String, String> setBy = new HashMap<>();
        for (String o : overrides == null ? List.<String>of() : overrides) {
            applyOverride(user, o, setBy);
        }
        ObjectNode merged = withDefaults(user);
        try {
            return YAML.treeToValue(merged, Recipe.class);
        } catch (JsonProcessingException e) {
            throw explain(e, merged, where, lines, setBy);
        }
    }

    /** The resolved recipe as YAML, every default filled in; {@link #parse} reads it back to an equal Recipe. */
    public static String toYaml(Recipe r) {
        try {
            return "# lora4j recipe, resolved: every default filled in\n" + YAML.writeValueAsString(r);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the recipe as YAML: " + e.getOriginalMessage(), e);
        }
    }

    /** Writes {@link #toYaml} to {@code file} atomically. */
    public static void save(Recipe r, Path file) {
        AtomicFiles.write(file, toYaml(r).getBytes(StandardCharsets.UTF_8));
    }

    /** SHA-256 (hex) of {@link #toYaml}: equal for equal recipes, whatever the file's layout or comments. */
    public static String hash(Recipe r) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(toYaml(r).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The valid keys of a section (or of the top level for {@code Recipe.class}), as the YAML spells them. */
    public static List<String> keysOf(Class<?> recordType) {
        if (!recordType.isRecord()) {
            return List.of();
        }
        return Arrays.stream(recordType.getRecordComponents()).map(c -> SNAKE.translate(c.getName())).toList();
    }

    private static ObjectNode readRoot(String yaml, String where) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            String at = e.getLocation() == null ? "" : " line " + e.getLocation().getLineNr();
            throw new RecipeException("", where + at + ": not valid YAML: " + e.getOriginalMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return YAML.createObjectNode();
        }
        if (!root.isObject()) {
            throw new RecipeException("", where + ": a recipe is a mapping of sections (" + String.join(", ",
                    SECTION_DEFAULTS.keySet()) + "), found " + describe(root));
        }
        return (ObjectNode) root;
    }

    /** The line of every key in the YAML text, by dotted path ("optimizer.lr" → 12); best effort. */
    private static Map<String, Integer> keyLines(String yaml) {
        Map<String, Integer> lines = new HashMap<>();
        try (JsonParser p = YAML.getFactory().createParser(yaml)) {
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t == JsonToken.FIELD_NAME) {
                    String pointer = p.getParsingContext().pathAsPointer().toString();
                    lines.putIfAbsent(pointer.substring(1).replace('/', '.'), p.currentTokenLocation().getLineNr());
                }
            }
        } catch (IOException ignored) {
            // readRoot has already parsed this text; without line numbers the messages still name the key
        }
        return lines;
    }

    private static void applyOverride(ObjectNode root, String override, Map<String, String> setBy) {
        int eq = override.indexOf('=');
        String path = eq < 0 ? "" : override.substring(0, eq).trim();
        String[] keys = path.split("\\.", -1);
        if (eq <= 0 || Arrays.stream(keys).anyMatch(String::isEmpty)) {
            throw new RecipeException("", "--set " + override + ": expected key.path=value, e.g. --set"
                    + " optimizer.lr=1e-4 or --set adapter.target_modules=[q_proj,v_proj]");
        }
        JsonNode value;
        String text = override.substring(eq + 1);
        try {
            value = text.isBlank() ? NullNode.instance : YAML.readTree(text);
        } catch (JsonProcessingException e) {
            throw new RecipeException(path, "--set " + override + ": the value is not valid YAML ("
                    + e.getOriginalMessage() + "); quote it, e.g. --set " + path + "='" + text + "'", e);
        }
        ObjectNode section = root;
        for (int i = 0; i < keys.length - 1; i++) {
            JsonNode child = section.get(keys[i]);
            if (child == null || child.isNull()) {
                child = section.putObject(keys[i]);
            } else if (!child.isObject()) {
                String prefix = String.join(".", Arrays.copyOf(keys, i + 1));
                throw new RecipeException(prefix, "--set " + override + ": " + prefix + " is a value ("
                        + describe(child) + "), not a section with keys");
            }
            section = (ObjectNode) child;
        }
        section.set(keys[keys.length - 1], value == null || value.isMissingNode() ? NullNode.instance : value);
        setBy.put(path, "--set " + override);
    }

    /** The user's tree over the defaults: missing sections and keys are filled in; lists and values replace. */
    private static ObjectNode withDefaults(ObjectNode user) {
        ObjectNode merged = YAML.createObjectNode();
        SECTION_DEFAULTS.forEach((name, def) -> merged.set(name, YAML.valueToTree(def)));
        user.properties().forEach(e -> {
            JsonNode base = merged.get(e.getKey());
            if (base != null && base.isObject() && (e.getValue().isObject() || e.getValue().isNull())) {
                if (e.getValue().isObject()) { // an empty or commented-out section ("adapter:") keeps its defaults
                    ((ObjectNode) base).setAll((ObjectNode) e.getValue());
                }
            } else {
                merged.set(e.getKey(), e.getValue()); // unknown sections and wrong types are reported by binding
            }
        });
        // target_regex replaces target_modules: its default applies only when no regex is given
        JsonNode userAdapter = user.get("adapter");
        if (userAdapter != null && userAdapter.hasNonNull("target_regex") && !userAdapter.has("target_modules")) {
            ((ObjectNode) merged.get("adapter")).putNull("target_modules");
        }
        return merged;
    }

    private static RecipeException explain(JsonProcessingException e, JsonNode merged, String where,
                                           Map<String, Integer> lines, Map<String, String> setBy) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RecipeException re) {
                return new RecipeException(re.keyPath(), origin(re.keyPath(), where, lines, setBy) + ": "
                        + re.getMessage(), e);
            }
        }
        String path = e instanceof JsonMappingException jme ? pathOf(jme) : "";
        if (e instanceof UnrecognizedPropertyException u) {
            String section = path.contains(".") ? path.substring(0, path.lastIndexOf('.')) : "";
            List<String> valid = keysOf(u.getReferringClass());
            return new RecipeException(path, origin(path, where, lines, setBy) + ": unknown key '" + path + "'; "
                    + (section.isEmpty() ? "valid sections" : "valid keys of " + section) + ": "
                    + String.join(", ", valid), e);
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return new RecipeException(path, origin(path, where, lines, setBy) + ": " + path + " must be "
                    + expected(m.getTargetType()) + ", found " + describe(merged.at(pointer(path))), e);
        }
        return new RecipeException(path, origin(path, where, lines, setBy) + ": " + (path.isEmpty() ? ""
                : path + ": ") + e.getOriginalMessage(), e);
    }

    /** "optimizer.lr", "adapter.layers_to_transform[1]" from Jackson's reference chain. */
    private static String pathOf(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                sb.append(sb.isEmpty() ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String pointer(String path) {
        return "/" + path.replace(".", "/").replaceAll("\\[(\\d+)]", "/$1");
    }

    /**
     * "--set a.b=c" if an override set the key or a section above it; else "file line N" of the key or the nearest
     * section above it; else an override that set a key below it; else "file".
     */
    private static String origin(String path, String where, Map<String, Integer> lines, Map<String, String> setBy) {
        for (String p = path.replaceAll("\\[\\d+]", ""); !p.isEmpty(); p = parent(p)) {
            if (setBy.containsKey(p)) {
                return setBy.get(p);
            }
        }
        for (String p = path.replaceAll("\\[\\d+]", ""); !p.isEmpty(); p = parent(p)) {
            if (lines.containsKey(p)) {
                return where + " line " + lines.get(p);
            }
        }
        for (Map.Entry<String, String> e : setBy.entrySet()) { // e.g. an unknown section that --set a.b=c created
            if (!path.isEmpty() && e.getKey().startsWith(path + ".")) {
                return e.getValue();
            }
        }
        return where;
    }

    private static String parent(String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? "" : path.substring(0, dot);
    }

    private static String expected(Class<?> t) {
        if (t == double.class || t == Double.class || t == float.class || t == Float.class) {
            return "a number";
        }
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
            return "an integer";
        }
        if (t == boolean.class || t == Boolean.class) {
            return "true or false";
        }
        if (t == String.class) {
            return "a string";
        }
        if (List.class.isAssignableFrom(t)) {
            return "a list";
        }
        if (t.isEnum()) {
            return "one of " + Arrays.stream(t.getEnumConstants()).map(c -> ((Enum<?>) c).name()
                    .toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
        }
        if (t.isRecord()) {
            return "a section with the keys " + String.join(", ", keysOf(t));
        }
        return "a " + t.getSimpleName();
    }

    private static String describe(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "nothing";
        }
        if (n.isTextual()) {
            return "'" + n.textValue() + "'";
        }
        if (n.isObject()) {
            return "a section " + n;
        }
        if (n.isArray()) {
            return "a list " + n;
        }
        return n.toString();
    }
}
