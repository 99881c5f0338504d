package org.lora4j.trainer.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.data.arrow.DatasetWriter;
import org.lora4j.data.tokenizer.ByteLevelBpeTrainer;
import org.lora4j.data.tokenizer.ChatTemplates;
import org.lora4j.data.tokenizer.HfTokenizer;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.config.RopeScaling;
import org.lora4j.inference.tiny.Corpus;
import org.lora4j.inference.tiny.TinyModelGenerator;

/**
 * Everything the demo is made of, generated and seeded: the pre-training corpus of the small base model, its
 * byte-level BPE tokenizer and ChatML template, its randomly initialised weights (before pre-training), and the
 * domain task's train/validation datasets in the HF {@code save_to_disk} layout. See recipes/demo/.
 */
public final class DemoAssets {
    public static final List<String> SPECIALS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");
    private static final String[] KEYS = {"department", "priority", "name", "city", "status", "color"};
    private static final String[] VALUES = {"billing", "technical", "shipping", "account", "high", "normal", "low",
        "Anna", "Paris", "open", "closed", "blue", "green", "Berlin", "Omar"};

    private DemoAssets() {
    }

    /** Pre-training documents: simple English, customer messages (no answers) and unrelated JSON objects. */
    public static List<String> corpus(long seed, int documents) {
        Random r = new Random(seed);
        List<String> frags = TicketTask.fragments();
        List<String> docs = new ArrayList<>(documents);
        for (int d = 0; d < documents; d++) {
            StringBuilder sb = new StringBuilder();
            int kind = r.nextInt(3);
            for (int i = 0; i < 3 + r.nextInt(3); i++) {
                if (sb.length() > 0) {
                    sb.append(kind == 2 ? "\n" : " ");
                }
                if (kind == 0) {
                    sb.append(Corpus.sentences(r.nextLong(), 1).get(0));
                } else if (kind == 1) {
                    sb.append(frags.get(r.nextInt(frags.size())));
                } else {
                    String k1 = KEYS[r.nextInt(KEYS.length)];
                    String k2 = KEYS[r.nextInt(KEYS.length)];
                    sb.append("{\"").append(k1).append("\": \"").append(VALUES[r.nextInt(VALUES.length)])
                            .append("\", \"").append(k2).append("\": \"").append(VALUES[r.nextInt(VALUES.length)])
                            .append("\"}");
                }
            }
            docs.add(sb.toString());
        }
        return docs;
    }

    /** The base model before pre-training: tokenizer (vocab 1024), ChatML template, config and random weights. */
    public static ModelConfig writeInitialModel(Path dir, long seed) {
        try {
            Files.createDirectories(dir);
            List<String> tokCorpus = new ArrayList<>(corpus(seed, 3000));
            for (TicketTask.Example e : TicketTask.examples(seed + 1, 300)) {
                tokCorpus.add(TicketTask.INSTRUCTION + "\n" + e.message() + "\n" + e.json());
            }
            ByteLevelBpeTrainer.write(dir.resolve("tokenizer.json"), tokCorpus, 1024, SPECIALS);
            ByteLevelBpeTrainer.writeTokenizerConfig(dir.resolve("tokenizer_config.json"), null, "<|im_end|>",
                    "<|endoftext|>", false, ChatTemplates.CHATML);
            int vocab;
            int eos;
            int bos;
            try (HfTokenizer tok = HfTokenizer.load(dir)) {
                vocab = tok.vocabSize();
                eos = tok.tokenToId("<|im_end|>").orElseThrow();
                bos = tok.tokenToId("<|endoftext|>").orElseThrow();
            }
            ModelConfig c = new ModelConfig(Architecture.QWEN2, vocab, 128, 344, 4, 4, 2, 32, 1e-6, 10000.0,
                    new RopeScaling.None(), 256, true, true, false, 0, 0, bos, new int[] {eos, bos}, "float32");
            TinyModelGenerator.writeModel(dir, c, seed, DType.F32);
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the demo base model into " + dir, e);
        }
    }

    /** The pre-training corpus as JSONL ({@code {"text": ...}} per line). */
    public static void writeCorpus(Path jsonl, long seed, int documents) {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (String d : corpus(seed, documents)) {
            lines.add(json.createObjectNode().put("text", d).toString());
        }
        try {
            Files.createDirectories(jsonl.toAbsolutePath().getParent());
            Files.write(jsonl, lines);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + jsonl, e);
        }
    }

    /** The task as chat data ({@code messages}: user request, assistant JSON) in the save_to_disk layout. */
    public static void writeTaskDataset(Path dir, List<TicketTask.Example> examples) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (TicketTask.Example e : examples) {
            Map<String, Object> user = new HashMap<>(Map.of("role", "user", "content", e.prompt()));
            Map<String, Object> assistant = new HashMap<>(Map.of("role", "assistant", "content", e.json()));
            rows.add(new HashMap<>(Map.of("messages", List.of(user, assistant))));
        }
        DatasetWriter.saveToDisk(dir, DatasetWriter.inferSchema(rows.subList(0, Math.min(rows.size(), 50))),
                rows.iterator());
    }
}
