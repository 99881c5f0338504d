package org.lora4j.data.format;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.lora4j.data.tokenizer.ByteLevelBpeTrainer;
import org.lora4j.data.tokenizer.ChatTemplates;
import org.lora4j.data.tokenizer.HfTokenizer;

/**
 * Tiny byte-level BPE tokenizers (vocab 384, trained here on generated sentences without newlines) in HF layout,
 * carrying the special tokens of the Llama 3, ChatML and Mistral templates, plus helpers to build rows and the
 * expected ids/labels of an example from hand-written pieces.
 */
final class Fixtures {
    static final List<String> SPECIALS = List.of("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
            "<|end_header_id|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>");

    private static final String[] SUBJECTS = {"The cat", "A small dog", "My neighbour", "The teacher", "Every student",
        "The old man", "Her brother", "The river", "This machine", "Our team", "The children", "A bird"};
    private static final String[] VERBS = {"walks to", "looks at", "talks about", "runs past", "thinks of",
        "writes to", "waits for", "listens to", "cares for", "plays with", "reads about", "sings near"};
    private static final String[] OBJECTS = {"the house", "a green tree", "the city market", "an open window",
        "the quiet lake", "a new book", "the morning train", "the garden wall", "a warm fire", "the long road"};
    private static final String[] ENDINGS = {".", " every day.", " in the evening.", " again and again.",
        ", and then it rains.", " before the sun rises.", "?", "!"};

    private Fixtures() {}

    static List<String> corpus() {
        Random rnd = new Random(42);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            out.add(SUBJECTS[rnd.nextInt(SUBJECTS.length)] + " " + VERBS[rnd.nextInt(VERBS.length)] + " "
                    + OBJECTS[rnd.nextInt(OBJECTS.length)] + ENDINGS[rnd.nextInt(ENDINGS.length)]);
        }
        for (int i = 0; i < 20; i++) out.add("system user assistant You are terse. Where does it walk?");
        return out;
    }

    /** Llama 3 Instruct: BOS added by the tokenizer, EOS {@code <|eot_id|>}, the Llama 3.1 template. */
    static HfTokenizer llama3(Path dir) {
        return write(dir, "<|begin_of_text|>", "<|eot_id|>", true, ChatTemplates.LLAMA3);
    }

    /** Qwen 2.5 Instruct: no BOS, EOS {@code <|im_end|>}, the ChatML template. */
    static HfTokenizer chatml(Path dir) {
        return write(dir, null, "<|im_end|>", false, ChatTemplates.CHATML);
    }

    /** Mistral Instruct v0.2: BOS {@code <s>} added, EOS {@code </s>}, the Mistral template. */
    static HfTokenizer mistral(Path dir) {
        return write(dir, "<s>", "</s>", true, ChatTemplates.MISTRAL);
    }

    /** A base model: BOS {@code <|begin_of_text|>} added, EOS {@code <|end_of_text|>}, no chat template. */
    static HfTokenizer base(Path dir) {
        return write(dir, "<|begin_of_text|>", "<|end_of_text|>", true, null);
    }

    static HfTokenizer write(Path dir, String bos, String eos, boolean addBos, String template) {
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ByteLevelBpeTrainer.write(dir.resolve("tokenizer.json"), corpus(), 384, SPECIALS);
        ByteLevelBpeTrainer.writeTokenizerConfig(dir.resolve("tokenizer_config.json"), bos, eos, eos, addBos, template);
        return HfTokenizer.load(dir);
    }

    /** A row from alternating column names and values. */
    static Map<String, Object> row(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    static Map<String, Object> msg(String role, String content) {
        return row("role", role, "content", content);
    }

    static Map<String, Object> turn(String from, String value) {
        return row("from", from, "value", value);
    }

    /** The trainable tokens' text, decoded together. */
    static String trainedText(HfTokenizer tok, TokenizedExample t) {
        int[] ids = java.util.Arrays.stream(t.labels()).filter(id -> id != TokenizedExample.IGNORE_INDEX).toArray();
        return tok.decode(ids, false);
    }

    /**
     * Expected ids and labels built from pieces, each encoded on its own: pieces must end where the tokenizer's
     * pre-tokens end (at special tokens, before a space-led word, at a newline).
     */
    static final class Expected {
        private final HfTokenizer tok;
        private final StringBuilder text = new StringBuilder();
        private final List<Integer> ids = new ArrayList<>();
        private final List<Integer> labels = new ArrayList<>();

        Expected(HfTokenizer tok) {
            this.tok = tok;
        }

        Expected masked(String piece) {
            return add(piece, false);
        }

        Expected trained(String piece) {
            return add(piece, true);
        }

        private Expected add(String piece, boolean trainable) {
            text.append(piece);
            for (int id : tok.encode(piece, false)) {
                ids.add(id);
                labels.add(trainable ? id : TokenizedExample.IGNORE_INDEX);
            }
            return this;
        }

        String text() {
            return text.toString();
        }

        int[] ids() {
            return ids.stream().mapToInt(Integer::intValue).toArray();
        }

        int[] labels() {
            return labels.stream().mapToInt(Integer::intValue).toArray();
        }

        /** Checks the hand-written text against the pieces, then the example's text, ids and labels. */
        void check(String handWritten, RenderedExample rendered, TokenizedExample actual) {
            assertEquals(handWritten, text(), "the pieces of the test do not add up to the hand-written text");
            assertEquals(handWritten, rendered.text(), "rendered text");
            assertEquals(render(ids()), render(actual.inputIds()), "ids");
            assertEquals(render(labels()), render(actual.labels()), "labels");
        }

        private String render(int[] a) {
            return java.util.Arrays.toString(a);
        }
    }
}
