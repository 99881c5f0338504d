package org.lora4j.trainer.recipe;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Range checks for the section records; each failure names the key path, the rule and the value found. */
final class Require {

    private Require() {
    }

    static void check(boolean ok, String key, String rule, Object found) {
        if (!ok) {
            throw new RecipeException(key, key + " " + rule + ", found " + show(found));
        }
    }

    static void positive(String key, double v) {
        check(v > 0 && Double.isFinite(v), key, "must be > 0", v);
    }

    static void atLeast(String key, long v, long min) {
        check(v >= min, key, "must be >= " + min, v);
    }

    static void nonNegative(String key, double v) {
        check(v >= 0 && Double.isFinite(v), key, "must be >= 0", v);
    }

    /** {@code lo <= v < hi}. */
    static void inHalfOpen(String key, double v, double lo, double hi) {
        check(v >= lo && v < hi, key, "must be in [" + show(lo) + ", " + show(hi) + ")", v);
    }

    static void oneOf(String key, String v, Collection<String> allowed) {
        check(v != null && allowed.contains(v), key, "must be one of " + String.join(", ", allowed), v);
    }

    static void present(String key, String v, String hint) {
        if (v == null || v.isBlank()) {
            throw new RecipeException(key, key + " is required: " + hint);
        }
    }

    /** An immutable copy; null stays null; null elements are refused. */
    static <T> List<T> copyOf(String key, List<T> list) {
        if (list == null) {
            return null;
        }
        List<T> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            check(list.get(i) != null, key + "[" + i + "]", "must not be null", null);
            out.add(list.get(i));
        }
        return List.copyOf(out);
    }

    /** Numbers as a person writes them: -1 rather than -1.0, strings quoted. */
    static String show(Object v) {
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString(d.longValue());
        }
        if (v instanceof String s) {
            return "'" + s + "'";
        }
        return String.valueOf(v);
    }
}
