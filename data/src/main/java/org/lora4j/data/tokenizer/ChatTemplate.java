package org.lora4j.data.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face chat template (the Jinja {@code chat_template} of {@code tokenizer_config.json}) rendered with
 * Jinjava the way transformers' {@code apply_chat_template} renders it with Jinja2: {@code trim_blocks=True,
 * lstrip_blocks=True}, one trailing newline of the source dropped ({@code keep_trailing_newline=False}), variables
 * {@code messages} (list of {role, content} maps), {@code add_generation_prompt}, {@code bos_token},
 * {@code eos_token}, functions {@code raise_exception(msg)} and {@code strftime_now(fmt)}, and HF's {@code tojson}.
 *
 * <p>Jinjava is not Jinja2. Constructs it cannot handle are reported as {@link ChatTemplateException} naming the
 * construct and line: at {@link #of} for unknown filters/tests (which Jinjava would silently ignore) and step
 * slices ({@code messages[::-1]}); at {@link #render} for anything else (e.g. {@code namespace(..)} with computed
 * keyword arguments, Python string methods such as {@code .lstrip('\n')}). The remedy is a simplified template
 * passed with {@code --chat-template FILE}; {@link ChatTemplates} holds templates verified to render exactly.
 * Rejected at {@link #of} too: loop filters ({@code for x in xs if cond}), which Jinjava mis-renders silently.
 * Unary {@code not} is re-parenthesized to Jinja2's precedence by {@link JinjaCompat}.
 *
 * <p>Known remaining differences from Jinja2, harmless for the usual templates: an undefined variable
 * {@code is none} (guard with {@code is defined}, as HF templates do), and booleans print as {@code true}/{@code false}
 * rather than {@code True}/{@code False}.
 */
public final class ChatTemplate {
    private static final Pattern STRING_LITERAL = Pattern.compile("'(?:[^'\\\\]|\\\\.)*'|\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern FILTER_USE = Pattern.compile("\\|\\s*([A-Za-z_][A-Za-z0-9_]*)");
    private static final Pattern TEST_USE = Pattern.compile("\\bis\\s+(?:not\\s+)?([A-Za-z_][A-Za-z0-9_]*)");
    private static final Pattern LOOP_FILTER = Pattern.compile("^\\s*for\\b.*\\bif\\b", Pattern.DOTALL);
    private static final Pattern BRACKETED = Pattern.compile("\\([^()\\[\\]]*\\)|\\[[^()\\[\\]]*]");
    private static final Pattern STEP_SLICE = Pattern.compile("\\[[^\\[\\]{},]*:[^\\[\\]{},]*:[^\\[\\]{},]*]");

    private final String source;
    private final String original; // source less one trailing newline; errors quote its lines
    private final String body; // what Jinjava runs: original with JinjaCompat's rewrites (same line numbers)
    private final String bosToken;
    private final String eosToken;

    private ChatTemplate(String source, String bosToken, String eosToken) {
        this.source = source;
        this.original = source.endsWith("\r\n") ? source.substring(0, source.length() - 2)
                : source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        this.body = JinjaCompat.parenthesizeNot(original);
        this.bosToken = bosToken;
        this.eosToken = eosToken;
    }

    /**
     * Compiles {@code jinjaSource}; {@code bosToken}/{@code eosToken} (null = undefined) become the template's
     * {@code bos_token}/{@code eos_token}. Throws {@link ChatTemplateException} for constructs Jinjava cannot run.
     */
    public static ChatTemplate of(String jinjaSource, String bosToken, String eosToken) {
        Objects.requireNonNull(jinjaSource, "jinjaSource");
        if (jinjaSource.isBlank()) {
            throw new ChatTemplateException("chat template is empty; expected a Jinja template such as"
                    + " ChatTemplates.CHATML; pass one with --chat-template FILE");
        }
        ChatTemplate t = new ChatTemplate(jinjaSource, bosToken, eosToken);
        t.validate();
        return t;
    }

    public String source() {
        return source;
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders the conversation. {@code extraVariables} are passed to the template as well (e.g. {@code date_string},
     * {@code tools}); they cannot replace the four standard variables.
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extraVariables) {
        Objects.requireNonNull(messages, "messages");
        Map<String, Object> vars = new HashMap<>(extraVariables);
        List<Map<String, Object>> msgs = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            msgs.add(map);
        }
        vars.put("messages", msgs);
        vars.put("add_generation_prompt", addGenerationPrompt);
        if (bosToken != null) vars.put("bos_token", bosToken);
        if (eosToken != null) vars.put("eos_token", eosToken);
        RenderResult r = Engine.JINJAVA.renderForResult(body, vars);
        for (TemplateError e : r.getErrors()) {
            if (isFailure(e)) throw toException(e);
        }
        return r.getOutput();
    }

    private static boolean isFailure(TemplateError e) {
        return e.getSeverity() == TemplateError.ErrorType.FATAL || e.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR;
    }

    /** Parse errors, unknown filters/tests (silently skipped by Jinjava) and step slices, before any rendering. */
    private void validate() {
        JinjavaInterpreter interpreter = Engine.JINJAVA.newInterpreter();
        try (var current = JinjavaInterpreter.closeablePushCurrent(interpreter).get()) {
            current.value().parse(body);
        }
        for (TemplateError e : interpreter.getErrors()) {
            if (isFailure(e)) throw toException(e);
        }
        Context ctx = Engine.JINJAVA.getGlobalContext();
        Matcher tag = JinjaCompat.TAG.matcher(original);
        while (tag.find()) {
            String code = tag.group(3);
            String bare = STRING_LITERAL.matcher(code).replaceAll("''");
            if (LOOP_FILTER.matcher(withoutBrackets(bare)).find()) {
                throw unsupported("for ... if", tag.start(), "Jinjava ignores loop filters and renders the loop wrongly;"
                        + " write {% for x in xs %}{% if cond %}...{% endif %}{% endfor %} (loop.index/loop.last then"
                        + " count every item)");
            }
            Matcher slice = STEP_SLICE.matcher(bare);
            if (slice.find()) {
                throw unsupported(slice.group(), tag.start(), "slices with a step are not supported by Jinjava;"
                        + " to walk backwards use {% for i in range(messages|length - 1, -1, -1) %} and messages[i]");
            }
            Matcher f = FILTER_USE.matcher(bare);
            while (f.find()) {
                if (ctx.getFilter(f.group(1)) == null) {
                    throw unsupported("| " + f.group(1), tag.start(), "Jinjava has no filter '" + f.group(1) + "'");
                }
            }
            Matcher t = TEST_USE.matcher(bare);
            while (t.find()) {
                if (ctx.getExpTest(t.group(1)) == null) {
                    throw unsupported("is " + t.group(1), tag.start(), "Jinjava has no test '" + t.group(1) + "'");
                }
            }
        }
    }

    /** Code with bracketed parts removed, so {@code for x in (a if c else b)} is not taken for a loop filter. */
    private static String withoutBrackets(String code) {
        String prev;
        String cur = code;
        do {
            prev = cur;
            cur = BRACKETED.matcher(cur).replaceAll("");
        } while (!cur.equals(prev));
        return cur;
    }

    private ChatTemplateException unsupported(String construct, int offset, String why) {
        return new ChatTemplateException("chat template uses `" + construct + "` at line " + lineOf(original, offset)
                + ": `" + lineText(lineOf(original, offset)) + "`; " + why + ". " + where() + fix());
    }

    private ChatTemplateException toException(TemplateError e) {
        Throwable raised = e.getException();
        while (raised != null && !(raised instanceof ChatTemplateFunctions.Raised)) raised = raised.getCause();
        String construct = e.getFieldName() == null ? "" : e.getFieldName().trim();
        int at = construct.isEmpty() ? -1 : body.indexOf(construct);
        int line = at >= 0 ? lineOf(body, at) : Math.max(e.getLineno(), 1);
        if (raised != null) {
            return new ChatTemplateException("chat template raised an error: \"" + raised.getMessage() + "\" (raise_exception"
                    + " at line " + line + "). " + where() + "The conversation breaks a rule of this template: fix the"
                    + " messages (roles, order, system message), or pass another template with --chat-template FILE",
                    e.getException());
        }
        String message = e.getMessage() == null ? e.getReason().toString() : e.getMessage();
        return new ChatTemplateException("chat template cannot be rendered by Jinjava: " + message
                + (construct.isEmpty() ? "" : "; construct `" + construct + "`") + " at line " + line + ": `"
                + lineText(line) + "`. " + hint(message) + where() + fix(), e.getException());
    }

    private static String hint(String message) {
        if (message.contains("NamedParameter")) {
            return "namespace(...) keyword arguments must be literals in Jinjava; create it with literals and assign"
                    + " computed values with {% set ns.name = ... %}. ";
        }
        if (message.contains("Cannot find method")) {
            return "Python string methods other than Java's (e.g. lstrip, rstrip, startswith) do not exist in"
                    + " Jinjava; use filters such as |trim instead. ";
        }
        return "";
    }

    private String where() {
        String first = original.lines().filter(l -> !l.isBlank()).findFirst().orElse("").trim();
        if (first.length() > 80) first = first.substring(0, 77) + "...";
        return "The template begins `" + first + "`. ";
    }

    private static String fix() {
        return "Fix: pass a template Jinjava can render with --chat-template FILE (ChatTemplates.LLAMA3, CHATML and"
                + " MISTRAL are known to render exactly)";
    }

    private static int lineOf(String text, int offset) {
        int line = 1;
        for (int i = 0; i < offset && i < text.length(); i++) if (text.charAt(i) == '\n') line++;
        return line;
    }

    private String lineText(int line) {
        String text = original.lines().skip(line - 1L).findFirst().orElse("").trim();
        return text.length() > 120 ? text.substring(0, 117) + "..." : text;
    }

    /** One Jinjava configured like transformers' Jinja2 environment; thread-safe for rendering. */
    private static final class Engine {
        static final Jinjava JINJAVA = create();

        private static Jinjava create() {
            JinjavaConfig config = JinjavaConfig.newBuilder()
                    .withTrimBlocks(true)
                    .withLstripBlocks(true)
                    .withLegacyOverrides(LegacyOverrides.newBuilder()
                            .withUseTrimmingForNotesAndExpressions(true) // {{- x }} / {#- #} trim like Jinja2
                            .withUseNaturalOperatorPrecedence(true) // a + b | trim  ==  a + (b | trim)
                            .withParseWhitespaceControlStrictly(true)
                            .withUsePyishObjectMapper(true) // lists print as ['a', 'b'], as in Python
                            .build())
                    .build();
            Jinjava j = new Jinjava(config);
            ChatTemplateFunctions.register(j.getGlobalContext());
            return j;
        }
    }
}
