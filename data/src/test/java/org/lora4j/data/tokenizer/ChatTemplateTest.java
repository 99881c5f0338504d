package org.lora4j.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Expected strings are written by hand from each model's documented prompt format, not produced by this code. */
class ChatTemplateTest {
    private static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("You are a helpful assistant."),
            ChatMessage.user("What is the capital of France?"),
            ChatMessage.assistant("Paris."));
    private static final List<ChatMessage> QUESTION = CONVERSATION.subList(0, 2);

    private static ChatTemplate llama3() {
        return ChatTemplate.of(ChatTemplates.LLAMA3, "<|begin_of_text|>", "<|eot_id|>");
    }

    private static ChatTemplate chatml() {
        return ChatTemplate.of(ChatTemplates.CHATML, null, "<|im_end|>");
    }

    @Test
    void llama3SystemUserAssistant() {
        String header = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
                + "You are a helpful assistant.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nWhat is the capital of France?<|eot_id|>";
        assertEquals(header + "<|start_header_id|>assistant<|end_header_id|>\n\nParis.<|eot_id|>",
                llama3().render(CONVERSATION, false));
        assertEquals(header + "<|start_header_id|>assistant<|end_header_id|>\n\nParis.<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", llama3().render(CONVERSATION, true));
        assertEquals(header + "<|start_header_id|>assistant<|end_header_id|>\n\n", llama3().render(QUESTION, true));
        assertEquals(header, llama3().render(QUESTION, false));
    }

    @Test
    void llama3WithoutSystemTrimsContentAndTakesADate() {
        String expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\n<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        assertEquals(expected, llama3().render(List.of(ChatMessage.user("  Hi \n")), true,
                Map.of("date_string", "01 Jan 2025")));
    }

    @Test
    void llama3EightBInstruct() {
        ChatTemplate t = ChatTemplate.of(ChatTemplates.LLAMA3_8B_INSTRUCT, "<|begin_of_text|>", "<|eot_id|>");
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nWhat is the capital of France?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", t.render(QUESTION, true));
    }

    @Test
    void chatmlQwenStyle() {
        String conversation = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                + "<|im_start|>assistant\nParis.<|im_end|>\n";
        assertEquals(conversation, chatml().render(CONVERSATION, false));
        assertEquals(conversation + "<|im_start|>assistant\n", chatml().render(CONVERSATION, true));
    }

    @Test
    void chatmlInsertsQwensDefaultSystemPrompt() {
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\n Hi \n<|im_end|>\n<|im_start|>assistant\n",
                chatml().render(List.of(ChatMessage.user(" Hi \n")), true));
    }

    @Test
    void mistralInstFormat() {
        ChatTemplate t = ChatTemplate.of(ChatTemplates.MISTRAL, "<s>", "</s>");
        List<ChatMessage> turns = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Capital of France?"),
                ChatMessage.assistant("Paris."), ChatMessage.user("And Italy?"));
        assertEquals("<s> [INST] Be brief.\n\nCapital of France? [/INST] Paris.</s> [INST] And Italy? [/INST]",
                t.render(turns, true));
        assertEquals("<s> [INST] Hi [/INST]", t.render(List.of(ChatMessage.user("Hi")), false));
    }

    @Test
    void raiseExceptionBecomesAClearError() {
        ChatTemplate t = ChatTemplate.of(ChatTemplates.MISTRAL, "<s>", "</s>");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true));
        assertTrue(e.getMessage().contains("conversation roles must alternate user/assistant"), e.getMessage());
        assertTrue(e.getMessage().contains("line 11"), e.getMessage());

        ChatTemplate custom = ChatTemplate.of("{% if messages|length > 1 %}{{ raise_exception('only one message') }}{% endif %}ok",
                null, null);
        assertEquals("ok", custom.render(List.of(ChatMessage.user("a")), false));
        ChatTemplateException c = assertThrows(ChatTemplateException.class,
                () -> custom.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), false));
        assertTrue(c.getMessage().contains("\"only one message\""), c.getMessage());
    }

    @Test
    void stepSliceIsRejectedEvenInABranchNotTaken() {
        String template = "{% for m in messages %}{{ m.content }}{% endfor %}\n"
                + "{% if tools %}{% for m in messages[::-1] %}{{ m.role }}{% endfor %}{% endif %}";
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> ChatTemplate.of(template, null, null));
        assertTrue(e.getMessage().contains("[::-1]"), e.getMessage());
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertTrue(e.getMessage().contains("{% for m in messages %}"), "should quote the first line: " + e.getMessage());
        assertTrue(e.getMessage().contains("--chat-template FILE"), e.getMessage());
    }

    @Test
    void namespaceWithComputedKeywordArgumentFailsAtRenderNamingIt() {
        // Qwen3's template does this; Jinjava cannot coerce the computed argument.
        String template = "{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}\n"
                + "{{- ns.last_query_index }}";
        ChatTemplate t = ChatTemplate.of(template, null, null);
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(ChatMessage.user("a")), false));
        assertTrue(e.getMessage().contains("namespace(multi_step_tool=true"), e.getMessage());
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
        assertTrue(e.getMessage().contains("--chat-template FILE"), e.getMessage());
    }

    @Test
    void namespaceWithLiteralsAndAttributeAssignmentWorks() {
        ChatTemplate t = ChatTemplate.of("{% set ns = namespace(n=0) %}{% for m in messages %}"
                + "{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}", null, null);
        assertEquals("2", t.render(List.of(ChatMessage.user("a"), ChatMessage.assistant("b")), false));
    }

    @Test
    void unknownFilterOrTestIsRejectedInsteadOfSilentlySkipped() {
        ChatTemplateException f = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{{ '<|im_start|>' + messages[0].content | shout }}", null, null));
        assertTrue(f.getMessage().contains("| shout"), f.getMessage());
        ChatTemplateException t = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{% if x is callable %}y{% endif %}", null, null));
        assertTrue(t.getMessage().contains("is callable"), t.getMessage());
    }

    @Test
    void syntaxErrorsAreReportedAtCompile() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("hello\n{% for m in messages %}{{ m.content }}", null, null));
        assertTrue(e.getMessage().contains("endfor"), e.getMessage());
        assertThrows(ChatTemplateException.class, () -> ChatTemplate.of("  \n ", null, null));
    }

    @Test
    void jinja2CompatibleHelpers() {
        ChatTemplate t = ChatTemplate.of("{{ messages[0] | tojson }}|{{ {'a': [1, 2]} | tojson(indent=2) }}|"
                + "{{ messages[0].content is iterable }}|{% for k, v in {'x': 1} | items %}{{ k }}={{ v }}{% endfor %}|"
                + "{{ [{'a': 1, 'b': none}] | tojson }}\n", null, null);
        assertEquals("{\"role\": \"user\", \"content\": \"say \\\"hi\\\"\\n\"}|{\n  \"a\": [\n    1,\n    2\n  ]\n}|true|x=1|"
                + "[{\"a\": 1, \"b\": null}]",
                t.render(List.of(ChatMessage.user("say \"hi\"\n")), false));
    }

    @Test
    void strftimeNowFormatsToday() {
        ChatTemplate t = ChatTemplate.of("{{ strftime_now('%d %b %Y') }}", null, null);
        DateTimeFormatter f = DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH);
        String before = LocalDate.now().format(f);
        String rendered = t.render(List.of(), false);
        String after = LocalDate.now().format(f);
        assertTrue(rendered.equals(before) || rendered.equals(after), rendered + " vs " + before);
    }

    @Test
    void oneTrailingNewlineIsDroppedLikeJinja2() {
        assertEquals("x", ChatTemplate.of("x\n", null, null).render(List.of(), false));
        assertEquals("x\n", ChatTemplate.of("x\n\n", null, null).render(List.of(), false));
    }
}
