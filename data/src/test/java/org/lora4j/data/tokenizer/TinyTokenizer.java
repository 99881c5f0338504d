package org.lora4j.data.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A tiny byte-level BPE (vocab 384) trained on generated English sentences, written in HF layout for tests. */
final class TinyTokenizer {
    static final int VOCAB = 384;
    static final List<String> SPECIALS = List.of("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
            "<|end_header_id|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>");

    private static final String[] SUBJECTS = {"The cat", "A small dog", "My neighbour", "The teacher", "Every student",
        "The old man", "Her brother", "The river", "This machine", "Our team", "The children", "A bird"};
    private static final String[] VERBS = {"walks to", "looks at", "talks about", "runs past", "thinks of",
        "writes to", "waits for", "listens to", "cares for", "plays with", "reads about", "sings near"};
    private static final String[] OBJECTS = {"the house", "a green tree", "the city market", "an open window",
        "the quiet lake", "a new book", "the morning train", "the garden wall", "a warm fire", "the long road"};
    private static final String[] ENDINGS = {".", " every day.", " in the evening.", " again and again.",
        ", and then it rains.", " before the sun rises.", "?", "!"};

    private TinyTokenizer() {}

    /** {@code n} sentences, the same for every run. */
    static List<String> corpus(int n) {
        Random rnd = new Random(42);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(SUBJECTS[rnd.nextInt(SUBJECTS.length)] + " " + VERBS[rnd.nextInt(VERBS.length)] + " "
                    + OBJECTS[rnd.nextInt(OBJECTS.length)] + ENDINGS[rnd.nextInt(ENDINGS.length)]);
        }
        return out;
    }

    /** Writes tokenizer.json and a tokenizer_config.json (BOS/EOS Llama-3 style) into {@code dir}. */
    static Path write(Path dir, boolean addBos, String chatTemplate) {
        ByteLevelBpeTrainer.write(dir.resolve("tokenizer.json"), corpus(300), VOCAB, SPECIALS);
        ByteLevelBpeTrainer.writeTokenizerConfig(dir.resolve("tokenizer_config.json"), "<|begin_of_text|>",
                "<|end_of_text|>", "<|end_of_text|>", addBos, chatTemplate);
        return dir;
    }
}
