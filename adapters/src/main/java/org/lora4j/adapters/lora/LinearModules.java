package org.lora4j.adapters.lora;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.lora4j.adapters.safetensors.Checkpoint;
import org.lora4j.adapters.safetensors.TensorInfo;

/**
 * The linear layers (nn.Linear) of a Hugging Face decoder, found from its tensor names: every 2-D
 * {@code <module>.weight} that is not an embedding table, e.g. {@code model.layers.0.self_attn.q_proj -> [out, in]}.
 * These are the modules PEFT can adapt (huggingface/peft, {@code _maybe_include_all_linear_layers}).
 */
public final class LinearModules {

    /** Last name components in the order a Llama-style layer runs them. */
    private static final List<String> LAYER_ORDER = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
            "up_proj", "down_proj");
    private static final Pattern LAYER_INDEX = Pattern.compile(".*\\.layers\\.(\\d+)\\..*");
    private static final Pattern EMBEDDING = Pattern.compile("embed_tokens|embed_positions|wte|wpe|embeddings?");

    /**
     * Model order: by decoder layer index (numerically), inside a layer q, k, v, o, gate, up, down, then any other
     * linear by name (numbers compared as numbers); linears outside the layers come after them, {@code lm_head} last.
     */
    public static final Comparator<String> MODEL_ORDER = Comparator
            .comparingInt((String n) -> isOutputLayer(n) ? 2 : layerIndex(n).isPresent() ? 0 : 1)
            .thenComparingInt(n -> layerIndex(n).orElse(-1))
            .thenComparingInt(n -> {
                int i = LAYER_ORDER.indexOf(lastComponent(n));
                return i < 0 ? LAYER_ORDER.size() : i;
            })
            .thenComparing(LinearModules::compareNatural);

    private LinearModules() {
    }

    /**
     * Every linear layer of {@code ckpt}: module name (the tensor name without {@code ".weight"}) -> {out, in},
     * in {@link #MODEL_ORDER}. Embedding tables and 1-D tensors (norms, biases) are left out.
     */
    public static Map<String, int[]> linearShapes(Checkpoint ckpt) {
        List<String> modules = new ArrayList<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (String name : ckpt.names()) {
            if (!name.endsWith(".weight")) {
                continue;
            }
            TensorInfo t = ckpt.info(name);
            String module = name.substring(0, name.length() - ".weight".length());
            if (t.shape().length != 2 || EMBEDDING.matcher(lastComponent(module)).matches()
                    || lastComponent(module).contains("norm")) {
                continue;
            }
            long[] s = t.shape();
            modules.add(module);
            shapes.put(module, new int[] {Math.toIntExact(s[0]), Math.toIntExact(s[1])});
        }
        modules.sort(MODEL_ORDER);
        Map<String, int[]> out = new LinkedHashMap<>();
        modules.forEach(m -> out.put(m, shapes.get(m)));
        return out;
    }

    /** The decoder layer index of {@code module}: N in the last {@code ".layers.N."}; empty outside the layers. */
    public static OptionalInt layerIndex(String module) {
        Matcher m = LAYER_INDEX.matcher(module);
        if (!m.matches()) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(Integer.parseInt(m.group(1)));
        } catch (NumberFormatException e) {
            return OptionalInt.empty(); // more digits than an int: not a real layer index
        }
    }

    /** "q_proj" for "model.layers.0.self_attn.q_proj". */
    public static String lastComponent(String module) {
        return module.substring(module.lastIndexOf('.') + 1);
    }

    /** True for the output projection {@code lm_head}, which PEFT's "all-linear" leaves out. */
    public static boolean isOutputLayer(String module) {
        return module.equals("lm_head") || module.endsWith(".lm_head");
    }

    /** Compares dotted names component by component, numeric components as numbers ("layers.2" < "layers.10"). */
    static int compareNatural(String x, String y) {
        String[] a = x.split("\\.");
        String[] b = y.split("\\.");
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            int c;
            if (isNumber(a[i]) && isNumber(b[i])) {
                c = a[i].length() != b[i].length() ? Integer.compare(a[i].length(), b[i].length())
                        : a[i].compareTo(b[i]);
            } else {
                c = a[i].compareTo(b[i]);
            }
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.length, b.length);
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.length() < 10 && s.chars().allMatch(Character::isDigit) && (s.length() == 1
                || s.charAt(0) != '0');
    }
}
