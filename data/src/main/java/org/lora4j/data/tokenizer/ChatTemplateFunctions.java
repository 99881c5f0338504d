package org.lora4j.data.tokenizer;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The globals, filters and tests that transformers' {@code apply_chat_template} adds to Jinja2, and the Jinja2
 * behaviours Jinjava lacks: {@code raise_exception(msg)}, {@code strftime_now(fmt)}, {@code tojson} as
 * {@code json.dumps(x, ensure_ascii=False, indent=..)} (insertion order, ", " and ": " separators),
 * {@code items} (dict to [key, value] pairs) and {@code is iterable} (true for strings and mappings too).
 */
final class ChatTemplateFunctions {
    private ChatTemplateFunctions() {}

    /** Thrown by {@code raise_exception}; {@link ChatTemplate} finds it in the cause chain. */
    static final class Raised extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Raised(String message) {
            super(message, null, false, false);
        }
    }

    static void register(Context ctx) {
        try {
            Method raise = ChatTemplateFunctions.class.getDeclaredMethod("raiseException", Object.class);
            Method strftime = ChatTemplateFunctions.class.getDeclaredMethod("strftimeNow", String.class);
            raise.setAccessible(true); // the class is package-private; Jinjava calls these by reflection
            strftime.setAccessible(true);
            ctx.registerFunction(new ELFunctionDefinition("", "raise_exception", raise));
            ctx.registerFunction(new ELFunctionDefinition("", "strftime_now", strftime));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        ctx.registerFilter(new ToJson());
        ctx.registerFilter(new Items());
        ctx.registerExpTest(new IsIterable());
    }

    public static String raiseException(Object message) {
        throw new Raised(String.valueOf(message));
    }

    /** Python {@code datetime.now().strftime(fmt)} for the common codes (C locale); {@code %-d} etc. unpadded. */
    public static String strftimeNow(String format) {
        LocalDateTime t = LocalDateTime.now();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                sb.append(c);
                continue;
            }
            char code = format.charAt(++i);
            boolean pad = true;
            if (code == '-' && i + 1 < format.length()) {
                pad = false;
                code = format.charAt(++i);
            }
            switch (code) {
                case 'd' -> sb.append(num(t.getDayOfMonth(), pad ? 2 : 1));
                case 'e' -> sb.append(String.format("%2d", t.getDayOfMonth()));
                case 'm' -> sb.append(num(t.getMonthValue(), pad ? 2 : 1));
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(num(t.getYear() % 100, 2));
                case 'b', 'h' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'H' -> sb.append(num(t.getHour(), pad ? 2 : 1));
                case 'I' -> sb.append(num((t.getHour() + 11) % 12 + 1, pad ? 2 : 1));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'M' -> sb.append(num(t.getMinute(), pad ? 2 : 1));
                case 'S' -> sb.append(num(t.getSecond(), pad ? 2 : 1));
                case 'j' -> sb.append(num(t.getDayOfYear(), pad ? 3 : 1));
                case '%' -> sb.append('%');
                default -> throw new IllegalArgumentException("strftime_now: format code %" + code + " in '" + format
                        + "' is not supported; supported: %d %e %m %Y %y %b %B %a %A %H %I %p %M %S %j %% (and %-d ...)");
            }
        }
        return sb.toString();
    }

    private static String num(int v, int width) {
        String s = Integer.toString(v);
        return s.length() >= width ? s : "0".repeat(width - s.length()) + s;
    }

    /** {@code x | tojson} / {@code x | tojson(indent=4)} with Python {@code json.dumps} formatting. */
    static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return dumps(var, args.length > 0 && args[0] != null ? Integer.parseInt(args[0].trim()) : -1);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            return dumps(var, indent == null ? -1 : Integer.parseInt(indent.toString().trim()));
        }
    }

    /** {@code mapping | items}: a list of [key, value] pairs in the mapping's order. */
    static final class Items implements Filter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            List<List<Object>> out = new ArrayList<>();
            if (var instanceof Map<?, ?> m) {
                for (Map.Entry<?, ?> e : m.entrySet()) out.add(Arrays.asList(e.getKey(), e.getValue()));
            }
            return out;
        }
    }

    /** Jinja2's {@code is iterable}: strings, mappings, lists and arrays. */
    static final class IsIterable implements ExpTest {
        @Override
        public String getName() {
            return "iterable";
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof Iterable<?> || var instanceof Map<?, ?> || var instanceof CharSequence
                    || (var != null && var.getClass().isArray());
        }
    }

    /** Python {@code json.dumps(x, ensure_ascii=False, indent=indent)}; indent &lt; 0 means None. */
    static String dumps(Object x, int indent) {
        StringBuilder sb = new StringBuilder();
        dump(x, indent, 0, sb);
        return sb.toString();
    }

    private static void dump(Object x, int indent, int depth, StringBuilder sb) {
        if (x == null) {
            sb.append("null");
        } else if (x instanceof Boolean || x instanceof Integer || x instanceof Long || x instanceof Short) {
            sb.append(x);
        } else if (x instanceof Number n) {
            double d = n.doubleValue();
            sb.append(d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e16 ? (long) d + ".0" : n.toString());
        } else if (x instanceof Map<?, ?> m) {
            List<Object> parts = new ArrayList<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                StringBuilder p = new StringBuilder();
                string(String.valueOf(e.getKey()), p);
                p.append(": ");
                dump(e.getValue(), indent, depth + 1, p);
                parts.add(p);
            }
            container('{', '}', parts, indent, depth, sb);
        } else if (x instanceof Iterable<?> || x.getClass().isArray()) {
            List<Object> parts = new ArrayList<>();
            Iterable<?> it = x instanceof Iterable<?> i ? i : arrayList(x);
            for (Object v : it) {
                StringBuilder p = new StringBuilder();
                dump(v, indent, depth + 1, p);
                parts.add(p);
            }
            container('[', ']', parts, indent, depth, sb);
        } else {
            string(x.toString(), sb);
        }
    }

    private static List<Object> arrayList(Object array) {
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < Array.getLength(array); i++) out.add(Array.get(array, i));
        return out;
    }

    private static void container(char open, char close, List<Object> parts, int indent, int depth, StringBuilder sb) {
        sb.append(open);
        if (parts.isEmpty()) {
            sb.append(close);
            return;
        }
        if (indent < 0) {
            sb.append(String.join(", ", parts.stream().map(Object::toString).toList()));
        } else {
            String inner = "\n" + " ".repeat(indent * (depth + 1));
            sb.append(inner).append(String.join("," + inner, parts.stream().map(Object::toString).toList()));
            sb.append('\n').append(" ".repeat(indent * depth));
        }
        sb.append(close);
    }

    private static void string(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
