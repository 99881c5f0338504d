package org.lora4j.data.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import org.lora4j.data.arrow.CloseableIterator;
import org.lora4j.data.arrow.Dataset;
import org.lora4j.data.arrow.Row;
import org.lora4j.data.arrow.TokenizedCache;
import org.lora4j.data.batch.Sequence;
import org.lora4j.data.batch.SequencePacker;
import org.lora4j.data.format.DataFormat;
import org.lora4j.data.format.ExampleRenderer;
import org.lora4j.data.format.ExampleTokenizer;
import org.lora4j.data.format.NoTrainableTokensException;
import org.lora4j.data.format.RenderedExample;
import org.lora4j.data.format.TokenizationStats;
import org.lora4j.data.format.TokenizedExample;
import org.lora4j.data.tokenizer.HfTokenizer;

/**
 * dataset on disk → rows (streamed) → rendered with the model's template → tokenized with the loss mask →
 * cached in Arrow → rows of at most {@code max_seq_len} (packed or one example each).
 * The tokenized cache is keyed by a hash of the dataset files (path, size, mtime), the tokenizer files, the chat
 * template and the settings, so a second run with the same inputs skips tokenization.
 */
public final class DataPipeline {
    private DataPipeline() {
    }

    /**
     * @param cacheDir where tokenized caches live, or null for no cache
     * @param progress receives the number of rows tokenized so far (may be a no-op)
     */
    public static PreparedData prepare(Path dataset, HfTokenizer tok, DataSettings s, Path cacheDir,
                                       LongConsumer progress) {
        try (Dataset ds = Dataset.open(dataset)) {
            DataFormat format = DataFormat.parse(s.format(), ds.columns(), ds.path().toString());
            ds.requireRows();
            Path cache = cacheDir == null ? null : cacheDir.resolve("tokenized-" + key(ds, tok, s) + ".arrow");
            List<int[][]> examples;
            TokenizationStats stats = new TokenizationStats(s.maxSeqLen());
            boolean fromCache = cache != null && Files.isRegularFile(cache);
            if (fromCache) {
                examples = new ArrayList<>();
                try (CloseableIterator<int[][]> it = TokenizedCache.read(cache)) {
                    while (it.hasNext()) {
                        int[][] e = it.next();
                        examples.add(new int[][] {e[0], e[1]});
                        stats.add(new TokenizedExample(e[0], e[1], false, e[0].length));
                    }
                }
            } else {
                examples = tokenize(ds, format, tok, s, stats, progress);
                if (cache != null) {
                    Files.createDirectories(cacheDir);
                    TokenizedCache.write(cache, examples.iterator(), Map.of("lora4j.dataset", ds.path().toString(),
                            "lora4j.settings", s.cacheKey()));
                }
            }
            List<Sequence> rows;
            if (s.pack()) {
                rows = SequencePacker.pack(examples, s.maxSeqLen());
            } else {
                rows = new ArrayList<>(examples.size());
                for (int[][] e : examples) {
                    rows.add(Sequence.of(e[0], e[1]));
                }
            }
            return new PreparedData(rows, format, stats, SequencePacker.efficiency(rows, s.maxSeqLen()), fromCache);
        } catch (IOException e) {
            throw new UncheckedIOException("could not prepare " + dataset, e);
        }
    }

    private static List<int[][]> tokenize(Dataset ds, DataFormat format, HfTokenizer tok, DataSettings s,
                                          TokenizationStats stats, LongConsumer progress) {
        ExampleRenderer renderer = new ExampleRenderer(format, tok, s.trainOn());
        ExampleTokenizer tokenizer = new ExampleTokenizer(tok, s.maxSeqLen());
        List<int[][]> out = new ArrayList<>();
        TokenizedExample firstEmpty = null;
        String firstEmptyWhere = null;
        long n = 0;
        try (CloseableIterator<Row> rows = ds.rows()) {
            while (rows.hasNext()) {
                Row row = rows.next();
                String where = ds.path() + " row " + row.index();
                RenderedExample rendered = renderer.render(row.values(), where);
                TokenizedExample ex = tokenizer.tokenizeAllowingEmpty(rendered);
                stats.add(ex);
                if (ex.trainableTokens() > 0) {
                    out.add(new int[][] {ex.inputIds(), ex.labels()});
                } else if (firstEmpty == null) { // no loss in this example (or truncation cut it all): dropped
                    firstEmpty = ex;
                    firstEmptyWhere = where;
                }
                progress.accept(++n);
            }
        }
        if (out.isEmpty()) {
            throw NoTrainableTokensException.of(firstEmptyWhere, firstEmpty, tok);
        }
        return out;
    }

    /** Hash of everything tokenization depends on. */
    static String key(Dataset ds, HfTokenizer tok, DataSettings s) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Path f : ds.files()) {
                md.update((f.toAbsolutePath() + "|" + Files.size(f) + "|" + Files.getLastModifiedTime(f).toMillis())
                        .getBytes(StandardCharsets.UTF_8));
            }
            for (String name : new String[] {"tokenizer.json", "tokenizer_config.json"}) {
                Path f = tok.modelDir().resolve(name);
                if (Files.isRegularFile(f)) {
                    md.update(Files.readAllBytes(f));
                }
            }
            md.update(s.cacheKey().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest()).substring(0, 24);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
