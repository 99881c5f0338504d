package org.lora4j.adapters.lora;

import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which linear layers get a LoRA adapter: PEFT's {@code target_modules} (huggingface/peft, {@code LoraConfig}).
 * A list of names, a regular expression matched against the whole module name, or PEFT's {@code "all-linear"}.
 * Matching itself is {@link ModuleSelector}'s job.
 */
public sealed interface TargetModules {

    /**
     * PEFT's list form: a module is targeted when its name equals an entry or ends with {@code "." + entry},
     * e.g. {@code ["q_proj", "v_proj"]}.
     */
    record Names(List<String> names) implements TargetModules {
        public Names {
            if (names == null || names.isEmpty()) {
                throw new IllegalArgumentException("target_modules is an empty list; expected module names such as"
                        + " [\"q_proj\", \"v_proj\"], a regex string, or \"all-linear\"");
            }
            for (String n : names) {
                if (n == null || n.isBlank()) {
                    throw new IllegalArgumentException("target_modules " + names + " holds an empty name; expected"
                            + " module names such as \"q_proj\"");
                }
            }
            names = List.copyOf(names);
        }

        public static Names of(String... names) {
            return new Names(List.of(names));
        }
    }

    /** PEFT's string form: {@code re.fullmatch(pattern, module_name)}, e.g. {@code ".*\\.(q_proj|v_proj)"}. */
    record Regex(String pattern) implements TargetModules {
        public Regex {
            if (pattern == null || pattern.isEmpty()) {
                throw new IllegalArgumentException("target_modules regex is empty; expected a pattern matched against"
                        + " whole module names, e.g. \".*\\\\.(q_proj|v_proj)\"");
            }
            try {
                Pattern.compile(pattern);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("target_modules regex '" + pattern + "' does not compile: "
                        + e.getDescription() + " at index " + e.getIndex() + "; fix the pattern", e);
            }
        }

        /** Full match of the whole name, as Python's {@code re.fullmatch}. */
        public boolean matches(String module) {
            return Pattern.compile(pattern).matcher(module).matches();
        }
    }

    /** PEFT's {@code "all-linear"}: every linear layer except the output layer ({@code lm_head}). */
    record AllLinear() implements TargetModules {
    }
}
