package org.lora4j.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfTokenizerTest {
    @TempDir
    static Path shared;
    @TempDir
    Path tmp;

    static HfTokenizer tok;

    @BeforeAll
    static void train() {
        tok = HfTokenizer.load(TinyTokenizer.write(shared, true, ChatTemplates.LLAMA3));
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void loadsThroughDjlWithTheTrainedVocabulary() {
        assertEquals(TinyTokenizer.VOCAB, tok.vocabSize());
        assertEquals(0x20, tok.tokenToId("Ġ").orElseThrow());
        assertTrue(tok.tokenToId("Ġthe").isPresent(), "a frequent word piece should have been learned");
        assertTrue(tok.tokenToId("no such token").isEmpty());
        assertEquals("<|begin_of_text|>", tok.config().bosToken());
        assertEquals(377, tok.bosId().orElseThrow());
        assertEquals(378, tok.padId().orElseThrow());
    }

    @Test
    void roundTripsArbitraryText() {
        for (String text : List.of("", "Hello world", "  leading and trailing  ", "The cat walks to the house.",
                "naïve café — 日本語のテキスト, Ελληνικά, русский", "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇫🇷",
                "line1\nline2\r\n\ttabbed\n\n\nend", "code: if (x < 3) { return y[i] * 2; } // #1 @2 $3",
                "\u0000\u0001 control \u007f bytes", "numbers 1234567890 3.14159 -42")) {
            int[] ids = tok.encode(text, false);
            assertEquals(text, tok.decode(ids, false), "round trip of " + text);
            assertEquals(text, tok.decode(ids, true), "no special tokens to skip in " + text);
        }
    }

    @Test
    void specialTokensAreSingleIds() {
        for (int i = 0; i < TinyTokenizer.SPECIALS.size(); i++) {
            String special = TinyTokenizer.SPECIALS.get(i);
            int id = 377 + i;
            assertEquals(id, tok.tokenToId(special).orElseThrow());
            assertEquals(special, tok.idToToken(id));
            assertTrue(tok.isSpecial(id));
            assertArrayEquals(new int[] {id}, tok.encode(special, false));
        }
        int eot = tok.tokenToId("<|eot_id|>").orElseThrow();
        int[] ids = tok.encode("Hi<|eot_id|>there", false);
        assertEquals(1, Arrays.stream(ids).filter(x -> x == eot).count());
        assertEquals("Hi<|eot_id|>there", tok.decode(ids, false));
        assertEquals("Hithere", tok.decode(ids, true));
        assertFalse(tok.isSpecial(tok.tokenToId("Ġthe").orElseThrow()));
    }

    @Test
    void longTextIsNotTruncated() {
        String text = String.join(" ", TinyTokenizer.corpus(400));
        int[] ids = tok.encode(text, false);
        assertTrue(ids.length > 2000, "expected > 2000 tokens, got " + ids.length);
        assertEquals(text, tok.decode(ids, false));
        assertEquals(ids.length + 1, tok.encode(text, true).length);
    }

    @Test
    void prependsBosOnlyWhenConfigAsksAndPostProcessorDoesNot() {
        int bos = tok.bosId().orElseThrow();
        int[] plain = tok.encode("The cat", false);
        int[] special = tok.encode("The cat", true);
        assertEquals(bos, special[0]);
        assertArrayEquals(plain, Arrays.copyOfRange(special, 1, special.length));
        assertNotEquals(bos, plain[0]);

        try (HfTokenizer noBos = HfTokenizer.load(TinyTokenizer.write(tmp, false, null))) {
            assertArrayEquals(plain, noBos.encode("The cat", true));
        }
    }

    @Test
    void doesNotDoubleBosWhenThePostProcessorAddsIt() throws Exception {
        // Llama 3's real tokenizer.json: a TemplateProcessing post-processor that puts BOS before every sequence.
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(shared.resolve("tokenizer.json").toFile());
        json.set("post_processor", new ObjectMapper().readTree("""
                {"type": "TemplateProcessing",
                 "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                            {"Sequence": {"id": "A", "type_id": 0}}],
                 "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                          {"Sequence": {"id": "A", "type_id": 0}},
                          {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}},
                          {"Sequence": {"id": "B", "type_id": 1}}],
                 "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [377],
                                                          "tokens": ["<|begin_of_text|>"]}}}"""));
        Files.writeString(tmp.resolve("tokenizer.json"), json.toString());
        ByteLevelBpeTrainer.writeTokenizerConfig(tmp.resolve("tokenizer_config.json"), "<|begin_of_text|>",
                "<|end_of_text|>", null, true, null);
        try (HfTokenizer t = HfTokenizer.load(tmp)) {
            int[] plain = t.encode("The cat", false);
            int[] special = t.encode("The cat", true);
            assertEquals(plain.length + 1, special.length, "BOS added twice or not at all: " + Arrays.toString(special));
            assertEquals(377, special[0]);
        }
    }

    @Test
    void eosIdsStartWithTheConfigEosAndTakeExtras() {
        try (HfTokenizer t = HfTokenizer.load(TinyTokenizer.write(tmp, true, null))) {
            int eos = t.tokenToId("<|end_of_text|>").orElseThrow();
            int eot = t.tokenToId("<|eot_id|>").orElseThrow();
            assertArrayEquals(new int[] {eos}, t.eosIds());
            t.addEosIds(eot, eos);
            assertArrayEquals(new int[] {eos, eot}, t.eosIds());
            assertThrows(TokenizerException.class, () -> t.addEosIds(TinyTokenizer.VOCAB));
        }
    }

    @Test
    void badIdsGiveClearErrors() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> tok.decode(new int[] {1, 999}, false));
        assertTrue(e.getMessage().contains("999") && e.getMessage().contains("position 1"), e.getMessage());
        assertThrows(TokenizerException.class, () -> tok.idToToken(-1));
        assertThrows(TokenizerException.class, () -> tok.idToToken(TinyTokenizer.VOCAB));
    }

    @Test
    void missingOrInvalidTokenizerJsonIsReported() throws Exception {
        TokenizerException missing = assertThrows(TokenizerException.class, () -> HfTokenizer.load(tmp));
        assertTrue(missing.getMessage().contains("tokenizer.json not found"), missing.getMessage());

        TokenizerException noDir = assertThrows(TokenizerException.class, () -> HfTokenizer.load(tmp.resolve("nope")));
        assertTrue(noDir.getMessage().contains("does not exist"), noDir.getMessage());

        Files.writeString(tmp.resolve("tokenizer.json"), "{ not json");
        TokenizerException bad = assertThrows(TokenizerException.class, () -> HfTokenizer.load(tmp));
        assertTrue(bad.getMessage().contains("not valid JSON"), bad.getMessage());

        Files.writeString(tmp.resolve("tokenizer.json"), "{\"vocab\": {}}");
        TokenizerException noModel = assertThrows(TokenizerException.class, () -> HfTokenizer.load(tmp));
        assertTrue(noModel.getMessage().contains("no \"model\" object") && noModel.getMessage().contains("vocab"),
                noModel.getMessage());

        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"NoSuchModel\", \"vocab\": {\"a\": 0}}}");
        TokenizerException rejected = assertThrows(TokenizerException.class, () -> HfTokenizer.load(tmp));
        assertTrue(rejected.getMessage().contains("rejected"), rejected.getMessage());
    }

    @Test
    void configTokenMissingFromVocabularyIsReported() throws Exception {
        ByteLevelBpeTrainer.write(tmp.resolve("tokenizer.json"), List.of("hello"), 258, List.of("<|eot|>"));
        ByteLevelBpeTrainer.writeTokenizerConfig(tmp.resolve("tokenizer_config.json"), "<s>", "<|eot|>", null, true, null);
        TokenizerException e = assertThrows(TokenizerException.class, () -> HfTokenizer.load(tmp));
        assertTrue(e.getMessage().contains("bos_token '<s>'"), e.getMessage());
    }

    @Test
    void loadsFromTheTokenizerJsonFileToo() {
        try (HfTokenizer t = HfTokenizer.load(shared.resolve("tokenizer.json"))) {
            assertArrayEquals(tok.encode("The river", true), t.encode("The river", true));
        }
    }

    @Test
    void chatTemplateFromConfigRendersAndEncodesMarkersAsSingleTokens() {
        String text = tok.chatTemplate().render(List.of(ChatMessage.user("Hi")), true);
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
                + "Today Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", text);
        int[] ids = tok.encode(text, false);
        assertEquals(tok.bosId().orElseThrow(), ids[0]);
        assertEquals(tok.tokenToId("<|start_header_id|>").orElseThrow(), ids[1]);
        int eot = tok.tokenToId("<|eot_id|>").orElseThrow();
        assertEquals(2, Arrays.stream(ids).filter(x -> x == eot).count());
        assertEquals(text, tok.decode(ids, false));
    }

    @Test
    void missingChatTemplateSaysHowToPassOne() {
        try (HfTokenizer base = HfTokenizer.load(TinyTokenizer.write(tmp, true, null))) {
            TokenizerException e = assertThrows(TokenizerException.class, base::chatTemplate);
            assertTrue(e.getMessage().contains("no chat template") && e.getMessage().contains("--chat-template"),
                    e.getMessage());
        }
        try (HfTokenizer chatml = HfTokenizer.load(tmp, ChatTemplates.CHATML)) {
            assertTrue(chatml.chatTemplate().render(List.of(ChatMessage.user("x")), false).startsWith("<|im_start|>system\n"));
        }
    }
}
