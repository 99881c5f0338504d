package org.lora4j.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Unary {@code not} must follow Jinja2's precedence: it binds looser than comparisons, filters and tests. */
class JinjaCompatTest {
    @Test
    void parenthesizesTheOperandOfUnaryNot() {
        assertEquals("{%- if not (date_string is defined) %}", JinjaCompat.parenthesizeNot("{%- if not date_string is defined %}"));
        assertEquals("{{ a and not (b|length == 1) or c }}", JinjaCompat.parenthesizeNot("{{ a and not b|length == 1 or c }}"));
        assertEquals("{{ f(not (x), y) }}", JinjaCompat.parenthesizeNot("{{ f(not x, y) }}"));
        assertEquals("{{ not (not (x)) }}", JinjaCompat.parenthesizeNot("{{ not not x }}"));
        assertEquals("{{ 'a' if not (x == 1) else 'b' }}", JinjaCompat.parenthesizeNot("{{ 'a' if not x == 1 else 'b' }}"));
    }

    @Test
    void leavesNotInIsNotStringsAndTextAlone() {
        for (String s : List.of("{{ 'x' not in y }}", "{% if x is not none %}", "{{ 'not x is y' }}",
                "not a is b {{ x }}", "{# not x is y #}", "{{ (a) not in b }}")) {
            assertEquals(s, JinjaCompat.parenthesizeNot(s));
        }
    }

    @Test
    void rendersWithJinja2Semantics() {
        // Each expected value is what Python Jinja2 prints (booleans lower-cased, see ChatTemplate's javadoc).
        String template = "{{ not d is defined }}|{{ not u is defined }}|{{ not d == 'Y' }}|{{ 'X' not in t }}|"
                + "{{ t is not none }}|{{ not t|length == 1 }}|{{ 'no' if not d else 'yes' }}|"
                + "{% if not d is number and not u is defined %}A{% endif %}";
        String out = ChatTemplate.of(template, null, null).render(List.of(), false, Map.of("d", "X", "t", List.of("X")));
        assertEquals("false|true|true|false|true|false|yes|A", out);
    }

    @Test
    void loopFiltersAreRejectedButConditionalIterablesAreNot() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{% for m in messages if m.role == 'user' %}{{ m.content }}{% endfor %}", null, null));
        assertTrue(e.getMessage().contains("for ... if"), e.getMessage());
        ChatTemplate ok = ChatTemplate.of("{% for m in (messages if messages else []) %}{{ m.content }}{% endfor %}",
                null, null);
        assertEquals("ab", ok.render(List.of(ChatMessage.user("a"), ChatMessage.assistant("b")), false));
    }
}
