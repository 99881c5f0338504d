package org.lora4j.data.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Trains a small GPT-2-style byte-level BPE (Sennrich et al. 2016; Radford et al. 2019) and writes it as a
 * Hugging Face tokenizers {@code tokenizer.json}, for tests and demos that must not download a tokenizer.
 *
 * <p>Vocabulary layout: ids 0..255 are the 256 byte tokens with <b>id = byte value</b> (token text from
 * {@link ByteLevel}'s GPT-2 alphabet, so {@code ' '} is {@code "Ġ"} with id 32); ids 256.. are merges in the order
 * learned; the special tokens take the last ids and are stored in {@code added_tokens} with {@code special=true}.
 * The total, specials included, is at most {@code vocabSize} (less when the corpus runs out of pairs).
 *
 * <p>Training: the corpus is cut at special-token occurrences, pre-tokenized with the GPT-2 pattern, and each
 * distinct pre-token counted. Each step merges the most frequent adjacent pair (counts weighted by pre-token
 * frequency); ties go to the smallest {@code (leftId, rightId)}. Merges never cross pre-token boundaries, as in
 * HF's {@code BpeTrainer}. Cost is O(merges x distinct-pre-token length): meant for corpora of kilobytes to a few MB.
 *
 * <p>The written pipeline: pre_tokenizer ByteLevel (add_prefix_space=false, use_regex=true), model BPE (no unk,
 * no dropout), decoder ByteLevel, post_processor ByteLevel (trim_offsets=false), i.e. the post-processor adds no
 * BOS/EOS (as in Llama 3's and Qwen 2's {@code tokenizer.json}).
 */
public final class ByteLevelBpeTrainer {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ByteLevelBpeTrainer() {}

    /** The result of training: token texts by id (bytes, then merges, then specials) and merges in rank order. */
    public record Trained(List<String> tokens, List<String> merges, List<String> specialTokens) {
        public Trained {
            tokens = List.copyOf(tokens);
            merges = List.copyOf(merges);
            specialTokens = List.copyOf(specialTokens);
        }

        /** Id of the first special token; the rest follow it in order. */
        public int firstSpecialId() {
            return tokens.size() - specialTokens.size();
        }

        /** The {@code tokenizer.json} document (HF tokenizers format, version 1.0). */
        public Map<String, Object> toTokenizerJson() {
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("version", "1.0");
            root.put("truncation", null);
            root.put("padding", null);
            List<Map<String, Object>> added = new ArrayList<>();
            for (int i = 0; i < specialTokens.size(); i++) {
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("id", firstSpecialId() + i);
                t.put("content", specialTokens.get(i));
                t.put("single_word", false);
                t.put("lstrip", false);
                t.put("rstrip", false);
                t.put("normalized", false);
                t.put("special", true);
                added.add(t);
            }
            root.put("added_tokens", added);
            root.put("normalizer", null);
            root.put("pre_tokenizer", byteLevel(false, true, true));
            root.put("post_processor", byteLevel(true, false, true));
            root.put("decoder", byteLevel(true, true, true));
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("type", "BPE");
            model.put("dropout", null);
            model.put("unk_token", null);
            model.put("continuing_subword_prefix", null);
            model.put("end_of_word_suffix", null);
            model.put("fuse_unk", false);
            model.put("byte_fallback", false);
            Map<String, Integer> vocab = new LinkedHashMap<>();
            for (int id = 0; id < firstSpecialId(); id++) vocab.putIfAbsent(tokens.get(id), id);
            model.put("vocab", vocab);
            model.put("merges", merges);
            root.put("model", model);
            return root;
        }

        private static Map<String, Object> byteLevel(boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", "ByteLevel");
            m.put("add_prefix_space", addPrefixSpace);
            m.put("trim_offsets", trimOffsets);
            m.put("use_regex", useRegex);
            return m;
        }
    }

    /** Trains on {@code corpus} and writes {@code tokenizerJson} atomically (temp file + rename). */
    public static void write(Path tokenizerJson, List<String> corpus, int vocabSize, List<String> specialTokens) {
        Trained t = train(corpus, vocabSize, specialTokens);
        AtomicFiles.write(tokenizerJson, toBytes(t.toTokenizerJson()));
    }

    /**
     * Writes a {@code tokenizer_config.json} with the given special tokens (null = absent), {@code add_bos_token},
     * {@code add_eos_token=false} and {@code chat_template} (null = none).
     */
    public static void writeTokenizerConfig(Path file, String bos, String eos, String pad, boolean addBos,
                                            String chatTemplate) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("add_bos_token", addBos);
        c.put("add_eos_token", false);
        c.put("bos_token", bos);
        c.put("eos_token", eos);
        c.put("pad_token", pad);
        c.put("unk_token", null);
        c.put("clean_up_tokenization_spaces", false);
        c.put("model_max_length", 131072);
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        if (chatTemplate != null) c.put("chat_template", chatTemplate);
        AtomicFiles.write(file, toBytes(c));
    }

    /** Learns merges until the vocabulary (specials included) reaches {@code vocabSize} or no pair is left. */
    public static Trained train(List<String> corpus, int vocabSize, List<String> specialTokens) {
        Objects.requireNonNull(corpus, "corpus");
        List<String> specials = List.copyOf(Objects.requireNonNull(specialTokens, "specialTokens"));
        if (new HashSet<>(specials).size() != specials.size() || specials.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("special tokens must be distinct and non-empty; got " + specials);
        }
        if (vocabSize < 256 + specials.size()) {
            throw new IllegalArgumentException("vocabSize " + vocabSize + " is too small: a byte-level BPE needs 256 byte"
                    + " tokens + " + specials.size() + " special tokens = " + (256 + specials.size()) + " at least");
        }
        List<int[]> words = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        countWords(corpus, specials, words, counts);

        List<String> tokens = new ArrayList<>(vocabSize);
        Map<String, Integer> ids = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevel.charOf(b)));
            ids.put(tokens.get(b), b);
        }
        List<String> merges = new ArrayList<>();
        int target = vocabSize - specials.size();
        while (tokens.size() < target) {
            long best = bestPair(words, counts);
            if (best < 0) break;
            int left = (int) (best >>> 32);
            int right = (int) best;
            String merged = tokens.get(left) + tokens.get(right);
            Integer id = ids.get(merged);
            if (id == null) {
                id = tokens.size();
                tokens.add(merged);
                ids.put(merged, id);
            }
            merges.add(tokens.get(left) + " " + tokens.get(right));
            for (int w = 0; w < words.size(); w++) words.set(w, applyMerge(words.get(w), left, right, id));
        }
        tokens.addAll(specials);
        return new Trained(tokens, merges, specials);
    }

    private static void countWords(List<String> corpus, List<String> specials, List<int[]> words, List<Long> counts) {
        Pattern specialSplit = specials.isEmpty() ? null : Pattern.compile(
                specials.stream().map(Pattern::quote).collect(Collectors.joining("|")));
        Map<String, Long> freq = new LinkedHashMap<>();
        for (String line : corpus) {
            String[] segments = specialSplit == null ? new String[] {line} : specialSplit.split(line, -1);
            for (String segment : segments) {
                for (String piece : ByteLevel.split(segment)) freq.merge(piece, 1L, Long::sum);
            }
        }
        for (Map.Entry<String, Long> e : freq.entrySet()) {
            byte[] bytes = e.getKey().getBytes(StandardCharsets.UTF_8);
            int[] symbols = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) symbols[i] = bytes[i] & 0xFF;
            words.add(symbols);
            counts.add(e.getValue());
        }
    }

    /** The most frequent adjacent pair as {@code left << 32 | right}; ties to the smallest pair; -1 if none. */
    private static long bestPair(List<int[]> words, List<Long> counts) {
        Map<Long, Long> pairCounts = new HashMap<>();
        for (int w = 0; w < words.size(); w++) {
            int[] s = words.get(w);
            long c = counts.get(w);
            for (int i = 0; i + 1 < s.length; i++) pairCounts.merge(((long) s[i] << 32) | s[i + 1], c, Long::sum);
        }
        long best = -1;
        long bestCount = 0;
        for (Map.Entry<Long, Long> e : pairCounts.entrySet()) {
            long pair = e.getKey();
            long c = e.getValue();
            if (c > bestCount || (c == bestCount && pair < best)) {
                best = pair;
                bestCount = c;
            }
        }
        return best;
    }

    /** Replaces each non-overlapping (left, right), scanning left to right, by {@code merged}. */
    private static int[] applyMerge(int[] s, int left, int right, int merged) {
        int n = 0;
        int[] out = null;
        for (int i = 0; i < s.length; i++) {
            if (i + 1 < s.length && s[i] == left && s[i + 1] == right) {
                if (out == null) {
                    out = new int[s.length - 1];
                    System.arraycopy(s, 0, out, 0, i);
                    n = i;
                }
                out[n++] = merged;
                i++;
            } else if (out != null) {
                out[n++] = s[i];
            }
        }
        return out == null ? s : Arrays.copyOf(out, n);
    }

    private static byte[] toBytes(Map<String, Object> doc) {
        try {
            return JSON.writeValueAsBytes(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize tokenizer document: " + e.getMessage(), e);
        }
    }
}
