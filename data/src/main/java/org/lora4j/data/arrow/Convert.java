package org.lora4j.data.arrow;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * {@code lora4j data convert}: any dataset {@link Dataset#open} reads (JSON lines, JSON, CSV, TSV, an Arrow file)
 * becomes a {@code save_to_disk} folder that lora4j reads batch by batch and Hugging Face's
 * {@code datasets.load_from_disk} opens too. Streaming: JSON/CSV are read twice (types, then rows), never whole.
 */
public final class Convert {
    private Convert() {}

    /** Converts {@code input} into the dataset folder {@code outDir} and returns {@code outDir}. */
    public static Path jsonOrCsvToDataset(Path input, Path outDir) {
        return toDataset(input, null, outDir, DatasetWriter.DEFAULT_MAX_SHARD_BYTES);
    }

    /** Converts split {@code split} (null: the default) of {@code input}, with shards of at most about {@code maxShardBytes}. */
    public static Path toDataset(Path input, String split, Path outDir, long maxShardBytes) {
        if (input.toAbsolutePath().normalize().equals(outDir.toAbsolutePath().normalize())) {
            throw new DatasetException(outDir + ": the output folder is the input; write the converted dataset elsewhere");
        }
        try (Dataset ds = Dataset.open(input, split); CloseableIterator<Row> rows = ds.rows()) {
            Iterator<Map<String, Object>> values = new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public Map<String, Object> next() {
                    return rows.next().values();
                }
            };
            DatasetWriter.saveToDisk(outDir, ArrowTypes.plain(ds.schema()), values, maxShardBytes);
        }
        return outDir;
    }
}
