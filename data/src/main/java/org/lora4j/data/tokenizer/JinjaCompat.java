package org.lora4j.data.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Source rewrites that make Jinjava parse Jinja2 chat templates as Jinja2 does.
 *
 * <p>Unary {@code not}: in Jinja2 it binds looser than comparisons, filters and {@code is} tests
 * ({@code not x is defined} is {@code not (x is defined)}, {@code not a|length == 1} is {@code not (a|length == 1)}),
 * stopping only at {@code and}, {@code or}, {@code if}/{@code else}, a comma or a closing bracket. Jinjava gets this
 * wrong in both its precedence modes, so the operand is put in parentheses explicitly. Binary {@code not in} and the
 * test negation {@code is not} are left alone. Only code inside {@code {{ }}} and {@code {% %}} is touched, never
 * string literals or text, and no line breaks are added, so line numbers stay the same.
 */
final class JinjaCompat {
    static final Pattern TAG = Pattern.compile("(\\{\\{|\\{%)([-+]?)(.*?)([-+]?)(}}|%})", Pattern.DOTALL);
    private static final Pattern TOKEN = Pattern.compile(
            "\\s+|'(?:[^'\\\\]|\\\\.)*'|\"(?:[^\"\\\\]|\\\\.)*\"|[A-Za-z_][A-Za-z0-9_]*|\\d+(?:\\.\\d+)?|.", Pattern.DOTALL);
    private static final Set<String> UNARY_AFTER = Set.of("if", "elif", "and", "or", "not", "else", "in");
    private static final Set<String> SCOPE_END = Set.of("and", "or", "if", "else");

    private JinjaCompat() {}

    static String parenthesizeNot(String source) {
        Matcher m = TAG.matcher(source);
        StringBuilder out = new StringBuilder(source.length() + 16);
        int last = 0;
        while (m.find()) {
            out.append(source, last, m.start(3)).append(rewrite(m.group(3))).append(source, m.end(3), m.end());
            last = m.end();
        }
        return out.append(source, last, source.length()).toString();
    }

    private static String rewrite(String code) {
        List<String> tokens = new ArrayList<>();
        Matcher t = TOKEN.matcher(code);
        while (t.find()) tokens.add(t.group());
        int[] opens = new int[tokens.size() + 1];
        int[] closes = new int[tokens.size() + 1];
        boolean changed = false;
        for (int i = 0; i < tokens.size(); i++) {
            if (!tokens.get(i).equals("not") || !isUnary(tokens, i)) continue;
            opens[nextNonBlank(tokens, i + 1)]++;
            closes[scopeEnd(tokens, i + 1)]++;
            changed = true;
        }
        if (!changed) return code;
        StringBuilder sb = new StringBuilder(code.length() + 8);
        for (int i = 0; i <= tokens.size(); i++) {
            // Closing parentheses go before trailing whitespace so "not x %}" becomes "not (x) %}".
            if (closes[i] > 0) {
                int k = sb.length();
                while (k > 0 && Character.isWhitespace(sb.charAt(k - 1))) k--;
                sb.insert(k, ")".repeat(closes[i]));
            }
            if (opens[i] > 0) sb.append("(".repeat(opens[i]));
            if (i < tokens.size()) sb.append(tokens.get(i));
        }
        return sb.toString();
    }

    /** {@code not} is unary unless it follows an operand ({@code x not in y}) or {@code is} ({@code is not none}). */
    private static boolean isUnary(List<String> tokens, int i) {
        String prev = previous(tokens, i);
        if (prev == null || UNARY_AFTER.contains(prev)) return true;
        return !prev.equals("is") && !isOperandEnd(prev);
    }

    private static boolean isOperandEnd(String tok) {
        char c = tok.charAt(0);
        return Character.isLetterOrDigit(c) || c == '_' || c == '\'' || c == '"' || c == ')' || c == ']' || c == '}';
    }

    private static String previous(List<String> tokens, int i) {
        for (int k = i - 1; k >= 0; k--) if (!tokens.get(k).isBlank()) return tokens.get(k);
        return null;
    }

    private static int nextNonBlank(List<String> tokens, int from) {
        int k = from;
        while (k < tokens.size() && tokens.get(k).isBlank()) k++;
        return k;
    }

    /** Index of the first token after the operand starting at {@code from}. */
    private static int scopeEnd(List<String> tokens, int from) {
        int depth = 0;
        for (int k = from; k < tokens.size(); k++) {
            String tok = tokens.get(k);
            switch (tok) {
                case "(", "[", "{" -> depth++;
                case ")", "]", "}" -> {
                    if (depth-- == 0) return k;
                }
                case "," -> {
                    if (depth == 0) return k;
                }
                default -> {
                    if (depth == 0 && SCOPE_END.contains(tok)) return k;
                }
            }
        }
        return tokens.size();
    }
}
