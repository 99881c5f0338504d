package org.lora4j.data.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lora4j.data.format.Fixtures.msg;
import static org.lora4j.data.format.Fixtures.row;
import static org.lora4j.data.format.Fixtures.turn;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.data.format.Fixtures.Expected;
import org.lora4j.data.tokenizer.HfTokenizer;

/** For every format: one example's rendered text, ids and mask, checked exactly against hand-written pieces. */
class FormatsTest {
    static final String LLAMA3_SYSTEM_HEADER = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";
    static final String QWEN_SYSTEM = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful"
            + " assistant.<|im_end|>\n";

    @TempDir
    static Path dir;
    static HfTokenizer llama3;
    static HfTokenizer chatml;
    static HfTokenizer mistral;
    static HfTokenizer base;

    @BeforeAll
    static void tokenizers() {
        llama3 = Fixtures.llama3(dir.resolve("llama3"));
        chatml = Fixtures.chatml(dir.resolve("chatml"));
        mistral = Fixtures.mistral(dir.resolve("mistral"));
        base = Fixtures.base(dir.resolve("base"));
    }

    @AfterAll
    static void close() {
        for (HfTokenizer t : List.of(llama3, chatml, mistral, base)) t.close();
    }

    private static RenderedExample render(DataFormat f, HfTokenizer tok, Map<String, Object> row) {
        return new ExampleRenderer(f, tok, TrainOn.COMPLETION).render(row);
    }

    private static TokenizedExample tokenize(HfTokenizer tok, RenderedExample ex) {
        return new ExampleTokenizer(tok, 4096).tokenize(ex);
    }

    @Test
    void textIsBosTextEosAllTrainable() {
        RenderedExample ex = render(DataFormat.TEXT, base, row("text", "The cat walks to the house."));
        new Expected(base).trained("<|begin_of_text|>").trained("The cat walks to the house.").trained("<|end_of_text|>")
                .check("<|begin_of_text|>The cat walks to the house.<|end_of_text|>", ex, tokenize(base, ex));
    }

    @Test
    void textWithoutBosWhenTheTokenizerAddsNone() {
        RenderedExample ex = render(DataFormat.TEXT, chatml, row("text", "A bird sings near the lake."));
        new Expected(chatml).trained("A bird sings near the lake.").trained("<|im_end|>")
                .check("A bird sings near the lake.<|im_end|>", ex, tokenize(chatml, ex));
    }

    @Test
    void promptCompletionWithoutTemplateIsConcatenated() {
        RenderedExample ex = render(DataFormat.PROMPT_COMPLETION, base,
                row("prompt", "The cat walks to", "completion", " the house."));
        new Expected(base).masked("<|begin_of_text|>").masked("The cat walks to")
                .trained(" the house.").trained("<|end_of_text|>")
                .check("<|begin_of_text|>The cat walks to the house.<|end_of_text|>", ex, tokenize(base, ex));
    }

    @Test
    void promptCompletionThroughTheLlama3Template() {
        RenderedExample ex = render(DataFormat.PROMPT_COMPLETION, llama3,
                row("prompt", "Where does the cat walk?", "completion", "The cat walks to the house."));
        new Expected(llama3)
                .masked(LLAMA3_SYSTEM_HEADER + "<|eot_id|>")
                .masked("<|start_header_id|>user<|end_header_id|>\n\nWhere does the cat walk?<|eot_id|>")
                .masked("<|start_header_id|>assistant<|end_header_id|>\n\n")
                .trained("The cat walks to the house.<|eot_id|>")
                .check("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date:"
                        + " December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user"
                        + "<|end_header_id|>\n\nWhere does the cat walk?<|eot_id|><|start_header_id|>assistant"
                        + "<|end_header_id|>\n\nThe cat walks to the house.<|eot_id|>", ex, tokenize(llama3, ex));
    }

    @Test
    void promptCompletionWithSystemColumn() {
        RenderedExample ex = render(DataFormat.PROMPT_COMPLETION, chatml, row("system", "You are terse.",
                "prompt", "Where does the cat walk?", "completion", "The cat walks to the house."));
        new Expected(chatml)
                .masked("<|im_start|>system\nYou are terse.<|im_end|>\n")
                .masked("<|im_start|>user\nWhere does the cat walk?<|im_end|>\n<|im_start|>assistant\n")
                .trained("The cat walks to the house.<|im_end|>\n")
                .check("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhere does the cat walk?"
                        + "<|im_end|>\n<|im_start|>assistant\nThe cat walks to the house.<|im_end|>\n",
                        ex, tokenize(chatml, ex));
    }

    @Test
    void alpacaThroughTheChatmlTemplateJoinsInstructionAndInput() {
        RenderedExample ex = render(DataFormat.ALPACA, chatml, row("instruction", "Where does it walk?",
                "input", "The cat", "output", "The cat walks to the house.", "text", "ignored"));
        new Expected(chatml)
                .masked(QWEN_SYSTEM)
                .masked("<|im_start|>user\nWhere does it walk?\n\nThe cat<|im_end|>\n<|im_start|>assistant\n")
                .trained("The cat walks to the house.<|im_end|>\n")
                .check("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
                        + "<|im_end|>\n<|im_start|>user\nWhere does it walk?\n\nThe cat<|im_end|>\n"
                        + "<|im_start|>assistant\nThe cat walks to the house.<|im_end|>\n", ex, tokenize(chatml, ex));
    }

    @Test
    void alpacaWithEmptyInputIsTheInstructionAlone() {
        for (Object input : Arrays.asList("", null)) {
            RenderedExample ex = render(DataFormat.ALPACA, chatml,
                    row("instruction", "Where does it walk?", "input", input, "output", "To the lake."));
            new Expected(chatml)
                    .masked(QWEN_SYSTEM)
                    .masked("<|im_start|>user\nWhere does it walk?<|im_end|>\n<|im_start|>assistant\n")
                    .trained("To the lake.<|im_end|>\n")
                    .check(QWEN_SYSTEM + "<|im_start|>user\nWhere does it walk?<|im_end|>\n<|im_start|>assistant\n"
                            + "To the lake.<|im_end|>\n", ex, tokenize(chatml, ex));
        }
    }

    @Test
    void alpacaWithoutTemplateSeparatesPromptAndOutput() {
        RenderedExample ex = render(DataFormat.ALPACA, base,
                row("instruction", "Where does it walk?", "input", "The cat", "output", "To the house."));
        new Expected(base).masked("<|begin_of_text|>").masked("Where does it walk?\n\nThe cat\n\n")
                .trained("To the house.").trained("<|end_of_text|>")
                .check("<|begin_of_text|>Where does it walk?\n\nThe cat\n\nTo the house.<|end_of_text|>",
                        ex, tokenize(base, ex));
    }

    @Test
    void messagesMultiTurnLlama3() {
        Map<String, Object> r = row("messages", List.of(msg("system", "You are terse."),
                msg("user", "Where does the cat walk?"), msg("assistant", "The cat walks to the house."),
                msg("user", "And the dog?"), msg("assistant", "A small dog runs past the lake.")));
        RenderedExample ex = render(DataFormat.MESSAGES, llama3, r);
        TokenizedExample t = tokenize(llama3, ex);
        new Expected(llama3)
                .masked(LLAMA3_SYSTEM_HEADER + "You are terse.<|eot_id|>")
                .masked("<|start_header_id|>user<|end_header_id|>\n\nWhere does the cat walk?<|eot_id|>")
                .masked("<|start_header_id|>assistant<|end_header_id|>\n\n")
                .trained("The cat walks to the house.<|eot_id|>")
                .masked("<|start_header_id|>user<|end_header_id|>\n\nAnd the dog?<|eot_id|>")
                .masked("<|start_header_id|>assistant<|end_header_id|>\n\n")
                .trained("A small dog runs past the lake.<|eot_id|>")
                .check("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date:"
                        + " December 2023\nToday Date: 26 Jul 2024\n\nYou are terse.<|eot_id|><|start_header_id|>user"
                        + "<|end_header_id|>\n\nWhere does the cat walk?<|eot_id|><|start_header_id|>assistant"
                        + "<|end_header_id|>\n\nThe cat walks to the house.<|eot_id|><|start_header_id|>user"
                        + "<|end_header_id|>\n\nAnd the dog?<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
                        + "\n\nA small dog runs past the lake.<|eot_id|>", ex, t);
        int eot = llama3.tokenToId("<|eot_id|>").orElseThrow();
        assertEquals(5, Arrays.stream(t.inputIds()).filter(id -> id == eot).count());
        assertEquals(2, Arrays.stream(t.labels()).filter(id -> id == eot).count(), "both assistant <|eot_id|> trained");
        assertEquals("The cat walks to the house.<|eot_id|>A small dog runs past the lake.<|eot_id|>",
                Fixtures.trainedText(llama3, t));
    }

    @Test
    void messagesMultiTurnChatml() {
        Map<String, Object> r = row("messages", List.of(msg("system", "You are terse."),
                msg("user", "Where does the cat walk?"), msg("assistant", "The cat walks to the house."),
                msg("user", "And the dog?"), msg("assistant", "A small dog runs past the lake.")));
        RenderedExample ex = render(DataFormat.MESSAGES, chatml, r);
        TokenizedExample t = tokenize(chatml, ex);
        new Expected(chatml)
                .masked("<|im_start|>system\nYou are terse.<|im_end|>\n")
                .masked("<|im_start|>user\nWhere does the cat walk?<|im_end|>\n<|im_start|>assistant\n")
                .trained("The cat walks to the house.<|im_end|>\n")
                .masked("<|im_start|>user\nAnd the dog?<|im_end|>\n<|im_start|>assistant\n")
                .trained("A small dog runs past the lake.<|im_end|>\n")
                .check("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhere does the cat walk?"
                        + "<|im_end|>\n<|im_start|>assistant\nThe cat walks to the house.<|im_end|>\n<|im_start|>user"
                        + "\nAnd the dog?<|im_end|>\n<|im_start|>assistant\nA small dog runs past the lake.<|im_end|>\n",
                        ex, t);
        int imEnd = chatml.tokenToId("<|im_end|>").orElseThrow();
        assertEquals(5, Arrays.stream(t.inputIds()).filter(id -> id == imEnd).count());
        assertEquals(2, Arrays.stream(t.labels()).filter(id -> id == imEnd).count(), "both assistant <|im_end|> trained");
        assertEquals("The cat walks to the house.<|im_end|>\nA small dog runs past the lake.<|im_end|>\n",
                Fixtures.trainedText(llama3, t));
        assertEquals(List.of(Segment.masked("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhere"
                        + " does the cat walk?<|im_end|>\n<|im_start|>assistant\n"),
                Segment.trained("The cat walks to the house.<|im_end|>\n"),
                Segment.masked("<|im_start|>user\nAnd the dog?<|im_end|>\n<|im_start|>assistant\n"),
                Segment.trained("A small dog runs past the lake.<|im_end|>\n")), ex.segments());
    }

    @Test
    void messagesThroughTheMistralTemplate() {
        RenderedExample ex = render(DataFormat.MESSAGES, mistral, row("messages", List.of(
                msg("user", "Where does the cat walk?"), msg("assistant", "The cat walks to the house."))));
        new Expected(mistral).masked("<s> [INST] Where does the cat walk? [/INST]")
                .trained(" The cat walks to the house.</s>")
                .check("<s> [INST] Where does the cat walk? [/INST] The cat walks to the house.</s>",
                        ex, tokenize(mistral, ex));
    }

    @Test
    void sharegptWithSystemColumnChatml() {
        Map<String, Object> r = row("system", "You are terse.", "conversations", List.of(
                turn("human", "Where does the cat walk?"), turn("gpt", "The cat walks to the house."),
                turn("human", "And the dog?"), turn("gpt", "A small dog runs past the lake.")));
        RenderedExample ex = render(DataFormat.SHAREGPT, chatml, r);
        new Expected(chatml)
                .masked("<|im_start|>system\nYou are terse.<|im_end|>\n")
                .masked("<|im_start|>user\nWhere does the cat walk?<|im_end|>\n<|im_start|>assistant\n")
                .trained("The cat walks to the house.<|im_end|>\n")
                .masked("<|im_start|>user\nAnd the dog?<|im_end|>\n<|im_start|>assistant\n")
                .trained("A small dog runs past the lake.<|im_end|>\n")
                .check("<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhere does the cat walk?"
                        + "<|im_end|>\n<|im_start|>assistant\nThe cat walks to the house.<|im_end|>\n<|im_start|>user"
                        + "\nAnd the dog?<|im_end|>\n<|im_start|>assistant\nA small dog runs past the lake.<|im_end|>\n",
                        ex, tokenize(chatml, ex));
    }

    @Test
    void sharegptLlama3WithSystemTurn() {
        Map<String, Object> r = row("conversations", List.of(turn("system", "You are terse."),
                turn("human", "Where does the cat walk?"), turn("gpt", "The cat walks to the house.")));
        RenderedExample ex = render(DataFormat.SHAREGPT, llama3, r);
        new Expected(llama3)
                .masked(LLAMA3_SYSTEM_HEADER + "You are terse.<|eot_id|>")
                .masked("<|start_header_id|>user<|end_header_id|>\n\nWhere does the cat walk?<|eot_id|>")
                .masked("<|start_header_id|>assistant<|end_header_id|>\n\n")
                .trained("The cat walks to the house.<|eot_id|>")
                .check(LLAMA3_SYSTEM_HEADER + "You are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
                        + "Where does the cat walk?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
                        + "The cat walks to the house.<|eot_id|>", ex, tokenize(llama3, ex));
    }

    @Test
    void trailingUserTurnIsMasked() {
        Map<String, Object> r = row("messages", List.of(msg("user", "Where does the cat walk?"),
                msg("assistant", "To the house."), msg("user", "And the dog?")));
        TokenizedExample t = tokenize(chatml, render(DataFormat.MESSAGES, chatml, r));
        assertEquals("To the house.<|im_end|>\n", Fixtures.trainedText(llama3, t));
    }

    @Test
    void trainOnAllLabelsEveryToken() {
        Map<String, Object> r = row("messages", List.of(msg("system", "You are terse."),
                msg("user", "Where does the cat walk?"), msg("assistant", "The cat walks to the house."),
                msg("user", "And the dog?"), msg("assistant", "A small dog runs past the lake.")));
        for (HfTokenizer tok : List.of(llama3, chatml)) {
            RenderedExample ex = new ExampleRenderer(DataFormat.MESSAGES, tok, TrainOn.ALL).render(r);
            TokenizedExample t = tokenize(tok, ex);
            assertEquals(1, ex.segments().size());
            assertTrue(ex.segments().get(0).trainable());
            assertEquals(Arrays.toString(tok.encode(ex.text(), false)), Arrays.toString(t.inputIds()));
            assertEquals(Arrays.toString(t.inputIds()), Arrays.toString(t.labels()));
            assertEquals(t.length() - 1, t.trainableTokens());
        }
        RenderedExample plain = new ExampleRenderer(DataFormat.PROMPT_COMPLETION, base, TrainOn.ALL)
                .render(row("prompt", "The cat walks to", "completion", " the house."));
        new Expected(base).trained("<|begin_of_text|>The cat walks to").trained(" the house.<|end_of_text|>")
                .check("<|begin_of_text|>The cat walks to the house.<|end_of_text|>", plain, tokenize(base, plain));
    }

    @Test
    void renderedSegmentsOfPlainPromptCompletion() {
        RenderedExample ex = render(DataFormat.PROMPT_COMPLETION, base, row("system", "Be brief.",
                "prompt", "The cat walks to", "completion", " the house."));
        assertEquals(List.of(Segment.masked("<|begin_of_text|>"), Segment.masked("Be brief.\n\n"),
                Segment.masked("The cat walks to"), Segment.trained(" the house.<|end_of_text|>")), ex.segments());
        assertFalse(new ExampleRenderer(DataFormat.PROMPT_COMPLETION, base, TrainOn.COMPLETION).usesChatTemplate());
        assertTrue(new ExampleRenderer(DataFormat.PROMPT_COMPLETION, llama3, TrainOn.COMPLETION).usesChatTemplate());
    }
}
