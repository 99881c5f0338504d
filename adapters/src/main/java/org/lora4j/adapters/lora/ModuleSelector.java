package org.lora4j.adapters.lora;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Picks the linear layers a {@link LoraConfig} adapts, with PEFT's matching rules (huggingface/peft,
 * src/peft/tuners/tuners_utils.py, {@code check_target_module_exists}):
 * <ul>
 *   <li>{@link TargetModules.Names}: a module matches when its name equals an entry, or ends with "." + entry;
 *       layers_to_transform then keeps only suffix matches whose name holds ".layers.N." with N listed
 *       (an entry equal to the whole name is taken as is, as PEFT does);</li>
 *   <li>{@link TargetModules.Regex}: {@code re.fullmatch(pattern, name)} (layers_to_transform is refused);</li>
 *   <li>{@link TargetModules.AllLinear}: every linear except the output layer lm_head, then layers_to_transform.</li>
 * </ul>
 * Unlike PEFT, which only fails when nothing at all matches, every entry of target_modules and every listed layer
 * must match something: a typo is an error, not a silently smaller adapter.
 */
public final class ModuleSelector {

    private ModuleSelector() {
    }

    /**
     * @param linearModules HF names of every nn.Linear of the base, in model order, e.g.
     *                      "model.layers.0.self_attn.q_proj", ..., "lm_head"
     * @return the adapted modules, in the order of {@code linearModules}
     * @throws IllegalArgumentException naming the target or layer that matched nothing, and what is available
     */
    public static List<String> select(List<String> linearModules, LoraConfig cfg) {
        if (linearModules.isEmpty()) {
            throw new IllegalArgumentException("the base model has no linear layers to adapt; expected names such as"
                    + " model.layers.0.self_attn.q_proj (is the checkpoint a decoder in Hugging Face layout?)");
        }
        List<String> selected = new ArrayList<>();
        TargetModules t = cfg.targetModules();
        if (t instanceof TargetModules.Names n) {
            for (String target : n.names()) {
                if (linearModules.stream().noneMatch(m -> m.equals(target) || m.endsWith("." + target))) {
                    throw new IllegalArgumentException("target_modules '" + target + "' matched no layer;"
                            + " available: " + available(linearModules));
                }
            }
            for (String m : linearModules) {
                if (n.names().contains(m)
                        || (n.names().stream().anyMatch(x -> m.endsWith("." + x)) && inLayers(m, cfg))) {
                    selected.add(m);
                }
            }
        } else if (t instanceof TargetModules.Regex r) {
            Pattern p = Pattern.compile(r.pattern());
            linearModules.stream().filter(m -> p.matcher(m).matches()).forEach(selected::add);
            if (selected.isEmpty()) {
                throw new IllegalArgumentException("target_modules regex '" + r.pattern() + "' matched no layer;"
                        + " it must match the whole module name, e.g. '" + linearModules.get(0) + "'; available: "
                        + available(linearModules));
            }
        } else {
            linearModules.stream().filter(m -> !LinearModules.isOutputLayer(m) && inLayers(m, cfg))
                    .forEach(selected::add);
        }
        checkLayers(linearModules, selected, cfg);
        if (selected.isEmpty()) {
            throw new IllegalArgumentException("target_modules " + describe(cfg.targetModules()) + " selected no"
                    + " layer; available: " + available(linearModules));
        }
        return List.copyOf(selected);
    }

    /** True when layers_to_transform is unset, or the module sits in a listed decoder layer. */
    private static boolean inLayers(String module, LoraConfig cfg) {
        if (cfg.layersToTransform() == null) {
            return true;
        }
        OptionalInt i = LinearModules.layerIndex(module);
        return i.isPresent() && cfg.layersToTransform().contains(i.getAsInt());
    }

    private static void checkLayers(List<String> linearModules, List<String> selected, LoraConfig cfg) {
        if (cfg.layersToTransform() == null) {
            return;
        }
        TreeSet<Integer> have = new TreeSet<>();
        linearModules.forEach(m -> LinearModules.layerIndex(m).ifPresent(have::add));
        Set<Integer> used = new TreeSet<>();
        selected.forEach(m -> LinearModules.layerIndex(m).ifPresent(used::add));
        List<Integer> unused = cfg.layersToTransform().stream().filter(i -> !used.contains(i)).distinct().sorted()
                .collect(Collectors.toList());
        if (!unused.isEmpty()) {
            String range = have.isEmpty() ? "no numbered layers (no '.layers.N.' in any name)"
                    : "layers " + have.first() + ".." + have.last();
            throw new IllegalArgumentException("layers_to_transform lists " + unused + " but no targeted module lies"
                    + " in " + (unused.size() == 1 ? "that layer" : "those layers") + "; the model has " + range
                    + "; list only existing layer indices (counted from 0)");
        }
    }

    /** The distinct last name components, in model order: "q_proj, k_proj, v_proj, ...". */
    static String available(List<String> linearModules) {
        Set<String> names = new LinkedHashSet<>();
        linearModules.forEach(m -> names.add(LinearModules.lastComponent(m)));
        return String.join(", ", names);
    }

    static String describe(TargetModules t) {
        if (t instanceof TargetModules.Names n) {
            return n.names().toString();
        }
        return t instanceof TargetModules.Regex r ? "'" + r.pattern() + "'" : "'all-linear'";
    }
}
