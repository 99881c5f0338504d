package org.lora4j.data.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lora4j.data.format.Fixtures.msg;
import static org.lora4j.data.format.Fixtures.row;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.data.format.Fixtures.Expected;
import org.lora4j.data.tokenizer.ChatTemplateException;
import org.lora4j.data.tokenizer.HfTokenizer;

/** Labels from offsets: straddling tokens, truncation, examples without trainable tokens, non-incremental templates. */
class MasksTest {
    static final Map<String, Object> TWO_TURNS = row("messages", List.of(msg("system", "You are terse."),
            msg("user", "Where does the cat walk?"), msg("assistant", "The cat walks to the house."),
            msg("user", "And the dog?"), msg("assistant", "A small dog runs past the lake.")));

    @TempDir
    static Path dir;
    static HfTokenizer llama3;
    static HfTokenizer chatml;
    static HfTokenizer base;

    @BeforeAll
    static void tokenizers() {
        llama3 = Fixtures.llama3(dir.resolve("llama3"));
        chatml = Fixtures.chatml(dir.resolve("chatml"));
        base = Fixtures.base(dir.resolve("base"));
    }

    @AfterAll
    static void close() {
        for (HfTokenizer t : List.of(llama3, chatml, base)) t.close();
    }

    @Test
    void offsetsAreStringIndicesEvenPastTheBasicPlane() {
        String text = "ab é😀x<|im_start|> y\n\nz 日本";
        HfTokenizer.Encoded enc = base.encodeWithOffsets(text);
        assertArrayEquals(base.encode(text, false), enc.ids());
        int special = base.tokenToId("<|im_start|>").orElseThrow();
        int at = Arrays.stream(enc.ids()).boxed().toList().indexOf(special);
        assertEquals("<|im_start|>", text.substring(enc.charStart()[at], enc.charEnd()[at]));
        StringBuilder rebuilt = new StringBuilder();
        int end = 0;
        for (int t = 0; t < enc.size(); t++) {
            assertTrue(enc.charStart()[t] <= enc.charEnd()[t] && enc.charEnd()[t] <= text.length());
            if (enc.charStart()[t] >= end) {
                assertEquals(end, enc.charStart()[t], "spans leave no gap");
                rebuilt.append(text, enc.charStart()[t], enc.charEnd()[t]);
                end = enc.charEnd()[t];
            } else {
                // byte tokens of one character share its span: 😀 is 4 byte tokens over 2 UTF-16 units
                assertEquals(end, enc.charEnd()[t]);
            }
        }
        assertEquals(text, rebuilt.toString());
        int emoji = text.indexOf("😀");
        long emojiTokens = java.util.stream.IntStream.range(0, enc.size())
                .filter(t -> enc.charStart()[t] == emoji && enc.charEnd()[t] == emoji + 2).count();
        assertEquals(4, emojiTokens);
    }

    @Test
    void aTokenStraddlingABoundaryGoesWithTheSegmentItStartsIn() {
        ExampleRenderer r = new ExampleRenderer(DataFormat.PROMPT_COMPLETION, base, TrainOn.COMPLETION);
        RenderedExample ex = r.render(row("prompt", "The cat walks to ", "completion", "the house."));
        // " the" is one pre-token that starts at the prompt's trailing space: masked
        new Expected(base).masked("<|begin_of_text|>").masked("The cat walks to").masked(" the")
                .trained(" house.").trained("<|end_of_text|>")
                .check("<|begin_of_text|>The cat walks to the house.<|end_of_text|>", ex,
                        new ExampleTokenizer(base, 100).tokenize(ex));
    }

    @Test
    void offsetsTrimmedOfWhitespaceGiveTheSameLabels() throws Exception {
        // the same tokenizer, its ByteLevel post-processor reporting offsets without spaces (as GPT-2's does)
        Path trimmedDir = dir.resolve("trimmed");
        Fixtures.chatml(trimmedDir).close();
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(trimmedDir.resolve("tokenizer.json").toFile());
        ((ObjectNode) root.get("post_processor")).put("trim_offsets", true);
        json.writeValue(trimmedDir.resolve("tokenizer.json").toFile(), root);
        try (HfTokenizer trimmed = HfTokenizer.load(trimmedDir)) {
            String text = "<|im_start|>user\n  The cat";
            HfTokenizer.Encoded enc = trimmed.encodeWithOffsets(text);
            assertEquals(enc.charEnd()[enc.size() - 3], enc.charStart()[enc.size() - 3], "a lone space: empty span");
            assertEquals(text.length() - 3, enc.charStart()[enc.size() - 1], "\" cat\" reported from \"c\"");

            RenderedExample chat = new ExampleRenderer(DataFormat.MESSAGES, chatml, TrainOn.COMPLETION).render(TWO_TURNS);
            RenderedExample straddle = RenderedExample.of(Segment.masked("The cat walks to "),
                    Segment.trained("the house.\n\n"), Segment.masked("  A bird"));
            for (RenderedExample ex : List.of(chat, straddle)) {
                TokenizedExample expected = new ExampleTokenizer(chatml, 4096).tokenize(ex);
                TokenizedExample actual = new ExampleTokenizer(trimmed, 4096).tokenize(ex);
                assertArrayEquals(expected.inputIds(), actual.inputIds());
                assertEquals(Arrays.toString(expected.labels()), Arrays.toString(actual.labels()));
            }
        }
    }

    @Test
    void multiByteCharacterAtABoundaryFollowsItsSegment() {
        RenderedExample ex = RenderedExample.of(Segment.masked("ab"), Segment.trained("😀"), Segment.masked("cd"));
        TokenizedExample t = new ExampleTokenizer(base, 100).tokenize(ex);
        int[] emoji = base.encode("😀", false);
        assertEquals(4, emoji.length);
        int[] expected = new int[t.length()];
        Arrays.fill(expected, TokenizedExample.IGNORE_INDEX);
        int first = base.encode("ab", false).length;
        System.arraycopy(emoji, 0, expected, first, 4);
        assertEquals(Arrays.toString(expected), Arrays.toString(t.labels()));
    }

    @Test
    void truncationKeepsTheStartAndIsCounted() {
        RenderedExample ex = new ExampleRenderer(DataFormat.MESSAGES, llama3, TrainOn.COMPLETION).render(TWO_TURNS);
        TokenizedExample full = new ExampleTokenizer(llama3, 4096).tokenize(ex);
        assertTrue(!full.truncated() && full.droppedTokens() == 0);
        int n = full.length() - 5;
        TokenizedExample cut = new ExampleTokenizer(llama3, n).tokenize(ex);
        assertTrue(cut.truncated());
        assertEquals(n, cut.length());
        assertEquals(full.length(), cut.fullLength());
        assertEquals(5, cut.droppedTokens());
        assertArrayEquals(Arrays.copyOf(full.inputIds(), n), cut.inputIds());
        assertArrayEquals(Arrays.copyOf(full.labels(), n), cut.labels());
        assertEquals(full.trainableTokens() - 5, cut.trainableTokens(), "the last 5 tokens were trainable");

        // cut before the first assistant turn: no loss left, returned for the caller to count and drop
        int firstTrained = 0;
        while (!full.isLabelled(firstTrained)) firstTrained++;
        TokenizedExample empty = new ExampleTokenizer(llama3, firstTrained).tokenize(ex);
        assertEquals(0, empty.trainableTokens());

        TokenizationStats stats = new TokenizationStats(n);
        stats.add(full);
        stats.add(cut);
        stats.add(empty);
        assertEquals(3, stats.examples());
        assertEquals(2, stats.truncated());
        assertEquals(5 + full.length() - firstTrained, stats.droppedTokens());
        assertEquals(1, stats.emptiedByTruncation());
        assertEquals(full.length() + n + firstTrained, stats.tokens());
        assertEquals("3 examples, " + stats.tokens() + " tokens (" + stats.trainableTokens() + " trainable); 2 truncated"
                + " to max_seq_len " + n + " (" + stats.droppedTokens() + " tokens cut, 1 left with no trainable token)",
                stats.toString());
    }

    @Test
    void emptyCompletionIsAnErrorShowingTheExample() {
        String rendered = FormatsTest.LLAMA3_SYSTEM_HEADER + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
                + "Where does the cat walk?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<|eot_id|>";
        ExampleRenderer r = new ExampleRenderer(DataFormat.PROMPT_COMPLETION, llama3, TrainOn.COMPLETION);
        for (Object completion : Arrays.asList("", null, "  ")) {
            RenderedExample ex = r.render(row("prompt", "Where does the cat walk?", "completion", completion));
            NoTrainableTokensException e = assertThrows(NoTrainableTokensException.class,
                    () -> new ExampleTokenizer(llama3, 4096).tokenize(ex, "train.arrow row 7"));
            String expectedText = completion == null ? rendered
                    : rendered.replace("\n\n<|eot_id|>", "\n\n" + completion + "<|eot_id|>");
            if ("  ".equals(completion)) expectedText = rendered; // the template trims content
            assertEquals("[" + expectedText + "]", e.shown());
            assertTrue(e.getMessage().startsWith("train.arrow row 7 has no trainable token: every label is -100"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("[" + expectedText + "]"), e.getMessage());
            assertTrue(e.getMessage().contains("train_on: all"), e.getMessage());
        }
        // without a template as well: prompt and an empty completion + EOS, all masked
        RenderedExample plain = new ExampleRenderer(DataFormat.PROMPT_COMPLETION, base, TrainOn.COMPLETION)
                .render(row("prompt", "The cat walks to", "completion", ""));
        NoTrainableTokensException e = assertThrows(NoTrainableTokensException.class,
                () -> new ExampleTokenizer(base, 4096).tokenize(plain));
        assertEquals("[<|begin_of_text|>The cat walks to<|end_of_text|>]", e.shown());
        // callers that drop such examples get them back, and can raise the same error themselves
        TokenizedExample lenient = new ExampleTokenizer(base, 4096).tokenizeAllowingEmpty(plain);
        assertEquals(0, lenient.trainableTokens());
        assertEquals(base.encode("<|begin_of_text|>The cat walks to<|end_of_text|>", false).length, lenient.length());
        assertEquals(e.getMessage(), NoTrainableTokensException.of("example", lenient, base).getMessage());
        // a long example without trainable token is rejected even when truncation would hide it
        NoTrainableTokensException cut = assertThrows(NoTrainableTokensException.class,
                () -> new ExampleTokenizer(base, 3).tokenize(plain));
        assertEquals(e.shown(), cut.shown());
        // ...and train_on: all trains it
        RenderedExample all = new ExampleRenderer(DataFormat.PROMPT_COMPLETION, base, TrainOn.ALL)
                .render(row("prompt", "The cat walks to", "completion", ""));
        assertEquals(base.encode("The cat walks to<|end_of_text|>", false).length,
                new ExampleTokenizer(base, 4096).tokenize(all).trainableTokens());
    }

    @Test
    void aConversationWithoutAssistantTurnIsAnError() {
        RenderedExample ex = new ExampleRenderer(DataFormat.MESSAGES, chatml, TrainOn.COMPLETION)
                .render(row("messages", List.of(msg("user", "Where does the cat walk?"))));
        NoTrainableTokensException e = assertThrows(NoTrainableTokensException.class,
                () -> new ExampleTokenizer(chatml, 4096).tokenize(ex));
        assertEquals("[" + FormatsTest.QWEN_SYSTEM + "<|im_start|>user\nWhere does the cat walk?<|im_end|>\n]", e.shown());
    }

    @Test
    void onlyTheFirstTokenLabelledIsNoTrainableToken() {
        RenderedExample ex = RenderedExample.of(Segment.trained("<|end_of_text|>"), Segment.masked("The cat"));
        NoTrainableTokensException e = assertThrows(NoTrainableTokensException.class,
                () -> new ExampleTokenizer(base, 10).tokenize(ex));
        assertTrue(e.getMessage().contains("only its first token is labelled"), e.getMessage());
    }

    @Test
    void emptyAssistantTurnAmongOthersIsMasked() {
        Map<String, Object> r = row("messages", List.of(msg("user", "Where does the cat walk?"), msg("assistant", ""),
                msg("user", "And the dog?"), msg("assistant", "To the lake.")));
        TokenizedExample t = new ExampleTokenizer(chatml, 4096)
                .tokenize(new ExampleRenderer(DataFormat.MESSAGES, chatml, TrainOn.COMPLETION).render(r));
        assertEquals("To the lake.<|im_end|>\n", Fixtures.trainedText(chatml, t));
    }

    @Test
    void nonIncrementalTemplateIsAClearError() {
        // prints the number of turns first, so no render is a prefix of the next
        String counting = "{{ messages|length }} turns\n{% for m in messages %}{{ m.role }}: {{ m.content }}\n"
                + "{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}";
        try (HfTokenizer tok = Fixtures.write(dir.resolve("counting"), null, "<|end_of_text|>", false, counting)) {
            ExampleRenderer r = new ExampleRenderer(DataFormat.MESSAGES, tok, TrainOn.COMPLETION);
            ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> r.render(TWO_TURNS, "row 3"));
            assertTrue(e.getMessage().startsWith("the chat template does not render conversations incrementally (render"
                    + " of turns 1..2 is not a prefix of turns 1..3) for row 3"), e.getMessage());
            assertTrue(e.getMessage().contains("first differ at character 0: \"2 turns\\nsystem: You ...\" vs"
                    + " \"3 turns\\nsystem: You ...\""), e.getMessage());
            // train_on: all needs no assistant spans
            RenderedExample all = new ExampleRenderer(DataFormat.MESSAGES, tok, TrainOn.ALL).render(TWO_TURNS);
            assertTrue(all.text().startsWith("5 turns\nsystem: You are terse.\n"), all.text());
        }
        // hides the content of earlier assistant turns (as reasoning templates drop earlier <think> blocks)
        String hiding = "{% for m in messages %}<|im_start|>{{ m.role }}\n{% if m.role == 'assistant' and not loop.last"
                + " %}(earlier answer){% else %}{{ m.content }}{% endif %}<|im_end|>\n{% endfor %}"
                + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
        try (HfTokenizer tok = Fixtures.write(dir.resolve("hiding"), null, "<|im_end|>", false, hiding)) {
            ExampleRenderer r = new ExampleRenderer(DataFormat.MESSAGES, tok, TrainOn.COMPLETION);
            ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> r.render(TWO_TURNS));
            assertTrue(e.getMessage().startsWith("the chat template does not render conversations incrementally (render"
                    + " of turns 1..3 is not a prefix of turns 1..5)"), e.getMessage());
            assertTrue(e.getMessage().contains("--chat-template FILE"), e.getMessage());
        }
    }

    @Test
    void maskViewBracketsOrDimsMaskedText() {
        RenderedExample ex = new ExampleRenderer(DataFormat.MESSAGES, chatml, TrainOn.COMPLETION).render(
                row("messages", List.of(msg("system", "Hi"), msg("user", "Where?"), msg("assistant", "Home."))));
        TokenizedExample t = new ExampleTokenizer(chatml, 4096).tokenize(ex);
        String masked = "<|im_start|>system\nHi<|im_end|>\n<|im_start|>user\nWhere?<|im_end|>\n<|im_start|>assistant\n";
        assertEquals("[" + masked + "]Home.<|im_end|>\n", MaskView.show(t, chatml, false));
        assertEquals("\u001b[2m" + masked + "\u001b[22mHome.<|im_end|>\n", MaskView.show(t, chatml, true));
        assertEquals("[" + masked + "]Home.<|im_end|>\n", MaskView.show(ex, false));
        TokenizedExample cut = new ExampleTokenizer(chatml, t.length() - 2).tokenize(ex);
        assertTrue(MaskView.show(cut, chatml, false).endsWith("[... 2 tokens cut by max_seq_len]"));
    }
}
