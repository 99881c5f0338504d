package org.lora4j.trainer.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lora4j.data.tokenizer.HfTokenizer;

/**
 * A plain-text training source (continued pretraining style, as HF {@code run_clm}'s {@code group_texts}): every
 * document is tokenized with the tokenizer's special tokens, followed by its eos, all are concatenated and cut
 * into chunks of {@code maxSeqLen} tokens (the remainder is dropped). A stand-in until the Arrow data path.
 * Documents: one per line of a {@code .txt} file, or the {@code text} field of each line of a {@code .jsonl}.
 */
public final class TokenChunks {
    private TokenChunks() {
    }

    public static List<int[]> fromFile(Path file, HfTokenizer tok, int maxSeqLen) {
        return fromDocuments(readDocuments(file), tok, maxSeqLen, file.toString());
    }

    public static List<int[]> fromDocuments(List<String> docs, HfTokenizer tok, int maxSeqLen, String where) {
        int[] eos = tok.eosIds();
        List<Integer> stream = new ArrayList<>();
        for (String d : docs) {
            for (int id : tok.encode(d, true)) {
                stream.add(id);
            }
            if (eos.length > 0) {
                stream.add(eos[0]);
            }
        }
        List<int[]> chunks = new ArrayList<>();
        for (int start = 0; start + maxSeqLen <= stream.size(); start += maxSeqLen) {
            int[] c = new int[maxSeqLen];
            for (int i = 0; i < maxSeqLen; i++) {
                c[i] = stream.get(start + i);
            }
            chunks.add(c);
        }
        if (chunks.isEmpty()) {
            throw new IllegalArgumentException(where + " holds " + stream.size() + " tokens, fewer than one sequence of "
                    + "max_seq_len=" + maxSeqLen + "; add data or lower data.max_seq_len");
        }
        return chunks;
    }

    static List<String> readDocuments(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("data file " + file + " does not exist");
        }
        try {
            List<String> lines = Files.readAllLines(file);
            List<String> docs = new ArrayList<>();
            boolean jsonl = file.getFileName().toString().endsWith(".jsonl");
            ObjectMapper json = new ObjectMapper();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.isBlank()) {
                    continue;
                }
                if (jsonl) {
                    JsonNode n = json.readTree(line);
                    if (!n.hasNonNull("text")) {
                        throw new IllegalArgumentException(file + " line " + (i + 1) + " has no \"text\" field; found keys "
                                + iterableToList(n.fieldNames()));
                    }
                    docs.add(n.get("text").asText());
                } else {
                    docs.add(line);
                }
            }
            return docs;
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + file, e);
        }
    }

    private static List<String> iterableToList(java.util.Iterator<String> it) {
        List<String> l = new ArrayList<>();
        it.forEachRemaining(l::add);
        return l;
    }
}
