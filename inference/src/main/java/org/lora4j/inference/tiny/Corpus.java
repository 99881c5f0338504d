package org.lora4j.inference.tiny;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A seeded corpus of simple English sentences to train the tiny models' tokenizers (and, later, the demo). */
public final class Corpus {
    private static final String[] SUBJECTS = {"the model", "a small cat", "our team", "the server", "my friend",
        "the old library", "a quiet river", "the new adapter", "every student", "the weather"};
    private static final String[] VERBS = {"reads", "writes", "trains", "finds", "builds", "loads", "answers",
        "watches", "learns", "opens"};
    private static final String[] OBJECTS = {"a long book", "the data", "three letters", "a simple question",
        "the weights", "a warm cup of tea", "the next token", "a blue door", "the evening news", "forty tests"};
    private static final String[] TAILS = {"today.", "before noon.", "with care.", "in the morning.",
        "again and again.", "on the JVM.", "without a sound.", "at 7:45 pm!", "for 12 hours?", "very slowly."};

    private Corpus() {
    }

    public static List<String> sentences(long seed, int n) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String s = pick(r, SUBJECTS) + " " + pick(r, VERBS) + " " + pick(r, OBJECTS) + " " + pick(r, TAILS);
            out.add(Character.toUpperCase(s.charAt(0)) + s.substring(1));
        }
        return out;
    }

    private static String pick(Random r, String[] words) {
        return words[r.nextInt(words.length)];
    }
}
