package org.lora4j.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByteLevelBpeTrainerTest {
    @TempDir
    Path tmp;

    @Test
    void gpt2ByteAlphabetIsABijectionOntoPrintableCharacters() {
        Set<Character> seen = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            char c = ByteLevel.charOf(b);
            assertTrue(seen.add(c), "byte " + b + " maps to a character already used");
            assertFalse(Character.isWhitespace(c), "byte " + b + " maps to whitespace");
        }
        assertEquals('Ġ', ByteLevel.charOf(' '));
        assertEquals('Ċ', ByteLevel.charOf('\n'));
        assertEquals('ĉ', ByteLevel.charOf('\t'));
        assertEquals('a', ByteLevel.charOf('a'));
        assertEquals('ÿ', ByteLevel.charOf(0xFF));
        assertEquals('Ń', ByteLevel.charOf(0xAD)); // the last of the 68 remapped bytes: U+0100 + 67
        assertEquals("ĠcafÃ©", ByteLevel.encode(" café"));
    }

    @Test
    void gpt2SplitKeepsLeadingSpacesAndContractions() {
        assertEquals(List.of("Hello", ",", " world", "'s", " 123", "  ", " x", "\n"), ByteLevel.split("Hello, world's 123   x\n"));
    }

    @Test
    void firstMergeIsTheMostFrequentPairNotTheSmallest() {
        // pre-tokens: "zz", " zz" x2, " ab"  ->  (z,z)=3, (Ġ,z)=2, (a,b)=1, (Ġ,a)=1
        ByteLevelBpeTrainer.Trained t = ByteLevelBpeTrainer.train(List.of("zz zz zz ab"), 258, List.of());
        assertEquals(List.of("z z", "Ġ zz"), t.merges());
        assertEquals("zz", t.tokens().get(256));
        assertEquals("Ġzz", t.tokens().get(257));
    }

    @Test
    void tiesGoToTheSmallestPairOfIds() {
        // "the", " the" x2, " cab": (t,h)=3 and (h,e)=3 tie; (h,e) = (104,101) < (116,104) wins.
        ByteLevelBpeTrainer.Trained t = ByteLevelBpeTrainer.train(List.of("the the the cab"), 259, List.of());
        assertEquals(List.of("h e", "t he", "Ġ the"), t.merges());
    }

    @Test
    void knownEncodingThroughDjl() {
        // "ab", " ab" x2, "abc": (a,b)=4 -> 256 "ab"; (Ġ,ab)=2 -> 257 "Ġab"; (ab,c)=1 -> 258 "abc"; special 259.
        ByteLevelBpeTrainer.write(tmp.resolve("tokenizer.json"), List.of("ab ab ab", "abc"), 260, List.of("<|eot|>"));
        try (HfTokenizer tok = HfTokenizer.load(tmp)) {
            assertEquals(260, tok.vocabSize());
            assertEquals("Ġab", tok.idToToken(257));
            // " abc" = Ġ a b c -> (a b) rank 0 -> Ġ ab c -> (Ġ ab) rank 1 beats (ab c) rank 2 -> Ġab c
            assertArrayEquals(new int[] {256, 257, 99, 259, 256}, tok.encode("ab abc<|eot|>ab", false));
            assertArrayEquals(new int[] {98, 97, 10, 32}, tok.encode("ba\n ", false));
            assertArrayEquals(new int[] {0xC3, 0xA9}, tok.encode("é", false)); // UTF-8 bytes, id = byte value
        }
    }

    @Test
    void fillsTheVocabularyAndPutsSpecialTokensLast() throws Exception {
        ByteLevelBpeTrainer.Trained t = ByteLevelBpeTrainer.train(TinyTokenizer.corpus(300), 384, TinyTokenizer.SPECIALS);
        assertEquals(384, t.tokens().size());
        assertEquals(384 - 256 - 7, t.merges().size());
        assertEquals(377, t.firstSpecialId());
        assertEquals("<|im_end|>", t.tokens().get(383));
        assertEquals(t.merges(), ByteLevelBpeTrainer.train(TinyTokenizer.corpus(300), 384, TinyTokenizer.SPECIALS).merges(),
                "training must be deterministic");

        Path file = tmp.resolve("tokenizer.json");
        ByteLevelBpeTrainer.write(file, TinyTokenizer.corpus(300), 384, TinyTokenizer.SPECIALS);
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        assertEquals("BPE", json.at("/model/type").asText());
        assertEquals(377, json.at("/model/vocab").size());
        assertEquals("ByteLevel", json.at("/pre_tokenizer/type").asText());
        assertFalse(json.at("/pre_tokenizer/add_prefix_space").asBoolean());
        assertTrue(json.at("/pre_tokenizer/use_regex").asBoolean());
        assertFalse(json.at("/post_processor/trim_offsets").asBoolean());
        assertEquals("ByteLevel", json.at("/decoder/type").asText());
        assertEquals(7, json.at("/added_tokens").size());
        assertEquals(381, json.at("/added_tokens/4/id").asInt());
        assertEquals("<|eot_id|>", json.at("/added_tokens/4/content").asText());
        assertTrue(json.at("/added_tokens/4/special").asBoolean());
    }

    @Test
    void specialTokenTextInTheCorpusIsNotLearned() {
        ByteLevelBpeTrainer.Trained t = ByteLevelBpeTrainer.train(
                List.of("<|x|><|x|><|x|><|x|> hi"), 270, List.of("<|x|>"));
        assertFalse(t.merges().stream().anyMatch(m -> m.contains("|")), "merges learned inside a special token: " + t.merges());
    }

    @Test
    void rejectsBadArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ByteLevelBpeTrainer.train(List.of("a"), 260, TinyTokenizer.SPECIALS));
        assertTrue(e.getMessage().contains("263"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ByteLevelBpeTrainer.train(List.of("a"), 300, List.of("<s>", "<s>")));
    }

    @Test
    void writesAtomicallyAndReplaces() throws Exception {
        Path file = tmp.resolve("tokenizer.json");
        Files.writeString(file, "old");
        ByteLevelBpeTrainer.write(file, List.of("hello hello"), 258, List.of());
        assertTrue(Files.readString(file).contains("\"merges\""));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("tokenizer.json"), s.map(p -> p.getFileName().toString()).toList(), "temp file left behind");
        }
    }
}
