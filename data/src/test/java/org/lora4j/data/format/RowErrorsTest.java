package org.lora4j.data.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import org.lora4j.data.tokenizer.HfTokenizer;
import org.lora4j.data.tokenizer.TokenizerException;

/** Rows that do not hold what their format expects. */
class RowErrorsTest {
    @TempDir
    static Path dir;
    static HfTokenizer chatml;
    static HfTokenizer base;

    @BeforeAll
    static void tokenizers() {
        chatml = Fixtures.chatml(dir.resolve("chatml"));
        base = Fixtures.base(dir.resolve("base"));
    }

    @AfterAll
    static void close() {
        chatml.close();
        base.close();
    }

    private static IllegalArgumentException fails(DataFormat f, Map<String, Object> row) {
        ExampleRenderer r = new ExampleRenderer(f, chatml, TrainOn.COMPLETION);
        return assertThrows(IllegalArgumentException.class, () -> r.render(row, "d.arrow row 4"));
    }

    @Test
    void chatFormatsNeedAChatTemplate() {
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> new ExampleRenderer(DataFormat.MESSAGES, base, TrainOn.COMPLETION));
        assertTrue(e.getMessage().contains("has no chat template"), e.getMessage());
    }

    @Test
    void wrongShapes() {
        assertEquals("d.arrow row 4: column 'messages' must hold a list of turns; found null",
                fails(DataFormat.MESSAGES, row("messages", null)).getMessage());
        assertEquals("d.arrow row 4 messages[1] must be an object (a struct); found hello",
                fails(DataFormat.MESSAGES, row("messages", List.of(msg("user", "a"), "hello"))).getMessage());
        assertEquals("d.arrow row 4 messages[0].role must be a string; found no such field (fields: [content])",
                fails(DataFormat.MESSAGES, row("messages", List.of(row("content", "a")))).getMessage());
        assertTrue(fails(DataFormat.MESSAGES, row("messages", List.of(row("role", "user", "content",
                List.of(row("type", "text", "text", "hi")))))).getMessage().contains("list of parts (multimodal)"));
        assertEquals("d.arrow row 4 has no 'completion' column; columns: [prompt]",
                fails(DataFormat.PROMPT_COMPLETION, row("prompt", "a")).getMessage());
        assertEquals("d.arrow row 4: column 'prompt' must hold text; found a Integer: 42",
                fails(DataFormat.PROMPT_COMPLETION, row("prompt", 42, "completion", "b")).getMessage());
    }

    @Test
    void unknownShareGptSpeaker() {
        IllegalArgumentException e = fails(DataFormat.SHAREGPT, row("conversations",
                List.of(turn("human", "a"), turn("bing", "b"))));
        assertTrue(e.getMessage().startsWith("d.arrow row 4 conversations[1] has from='bing'; expected human, gpt or"
                + " system"), e.getMessage());
    }

    @Test
    void systemColumnAndSystemMessageTogether() {
        IllegalArgumentException e = fails(DataFormat.MESSAGES, row("system", "Be brief.",
                "messages", List.of(msg("system", "Be long."), msg("user", "a"), msg("assistant", "b"))));
        assertTrue(e.getMessage().startsWith("d.arrow row 4 has both a 'system' column and a leading system message"),
                e.getMessage());
        // a null or empty system column is no system message
        for (Object system : Arrays.asList(null, "")) {
            RenderedExample ex = new ExampleRenderer(DataFormat.MESSAGES, chatml, TrainOn.COMPLETION).render(row(
                    "system", system, "messages", List.of(msg("system", "Be long."), msg("user", "a"),
                            msg("assistant", "b"))));
            assertTrue(ex.text().startsWith("<|im_start|>system\nBe long.<|im_end|>\n"), ex.text());
        }
    }

    @Test
    void maxSeqLenMustLeaveATokenToPredict() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ExampleTokenizer(base, 1));
        assertTrue(e.getMessage().startsWith("max_seq_len must be at least 2"), e.getMessage());
    }
}
