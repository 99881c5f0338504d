package org.lora4j.data.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DataFormatTest {
    @Test
    void detectsEachFormatFromItsColumns() {
        assertEquals(DataFormat.TEXT, DataFormat.detect(List.of("text", "id"), "d"));
        assertEquals(DataFormat.PROMPT_COMPLETION, DataFormat.detect(List.of("prompt", "completion"), "d"));
        assertEquals(DataFormat.ALPACA, DataFormat.detect(List.of("instruction", "input", "output"), "d"));
        assertEquals(DataFormat.ALPACA, DataFormat.detect(List.of("instruction", "output", "system"), "d"));
        assertEquals(DataFormat.MESSAGES, DataFormat.detect(List.of("messages"), "d"));
        assertEquals(DataFormat.SHAREGPT, DataFormat.detect(List.of("id", "conversations", "system"), "d"));
    }

    @Test
    void aStructuredFormatWinsOverAPreRenderedTextColumn() {
        // tatsu-lab/alpaca: instruction, input, output, text
        assertEquals(DataFormat.ALPACA, DataFormat.detect(List.of("instruction", "input", "output", "text"), "d"));
        // HuggingFaceH4/ultrachat_200k: prompt, prompt_id, messages (prompt alone is no format)
        assertEquals(DataFormat.MESSAGES, DataFormat.detect(List.of("prompt", "prompt_id", "messages"), "d"));
    }

    @Test
    void noMatchListsTheColumnsAndWhatEachFormatNeeds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataFormat.detect(List.of("question", "answer"), "data/qa.arrow"));
        assertEquals("cannot tell the format of data/qa.arrow from its columns: answer, question. Expected one of:"
                + " text needs text; prompt_completion needs prompt + completion (optional: system); alpaca needs"
                + " instruction + output (optional: input, system); messages needs messages (optional: system);"
                + " sharegpt needs conversations (optional: system). Fix: rename the columns, or name the format in"
                + " the recipe (format: text | prompt_completion | alpaca | messages | sharegpt) after renaming",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DataFormat.detect(List.of(), "empty.arrow"));
        assertTrue(e.getMessage().contains("from its columns: (none)"), e.getMessage());
    }

    @Test
    void severalStructuredMatchesAskForTheFormat() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataFormat.detect(List.of("prompt", "completion", "messages"), "mixed.arrow"));
        assertEquals("mixed.arrow has the columns of several formats: prompt_completion (prompt, completion),"
                + " messages (messages); columns: completion, messages, prompt. Fix: name the format in the recipe"
                + " (format: prompt_completion) or drop the columns that do not belong", e.getMessage());
    }

    @Test
    void parseNamedOrAuto() {
        assertEquals(DataFormat.MESSAGES, DataFormat.parse("auto", List.of("messages"), "d"));
        assertEquals(DataFormat.MESSAGES, DataFormat.parse(null, List.of("messages"), "d"));
        assertEquals(DataFormat.TEXT, DataFormat.parse("text", List.of("instruction", "output", "text"), "d"));
        assertEquals(Optional.of(DataFormat.SHAREGPT), DataFormat.named("sharegpt"));
        assertEquals(Optional.empty(), DataFormat.named("auto"));
        for (DataFormat f : DataFormat.values()) assertEquals(f, DataFormat.parse(f.recipeName(), f.requiredColumns(), "d"));
    }

    @Test
    void parseErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataFormat.parse("alpaca", List.of("instruction", "response"), "a.arrow"));
        assertEquals("format alpaca needs the column(s) output but a.arrow has: instruction, response. alpaca needs"
                + " instruction + output (optional: input, system). Fix: rename the columns, or use format: auto to"
                + " detect the format", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DataFormat.named("chatml"));
        assertEquals("unknown data format 'chatml'; expected one of: auto, text | prompt_completion | alpaca | messages"
                + " | sharegpt", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DataFormat.named("Prompt-Completion"));
        assertTrue(e.getMessage().contains("(did you mean prompt_completion?)"), e.getMessage());
    }

    @Test
    void trainOnParses() {
        assertEquals(TrainOn.COMPLETION, TrainOn.parse("completion"));
        assertEquals(TrainOn.ALL, TrainOn.parse("all"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainOn.parse("assistant"));
        assertTrue(e.getMessage().startsWith("unknown train_on 'assistant'; expected completion"), e.getMessage());
    }
}
