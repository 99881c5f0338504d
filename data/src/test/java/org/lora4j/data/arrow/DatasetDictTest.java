package org.lora4j.data.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A DatasetDict folder: dataset_dict.json and one save_to_disk folder per split. */
class DatasetDictTest {
    @TempDir
    Path dir;

    private Path dict() throws Exception {
        Path root = dir.resolve("dict");
        for (String split : List.of("train", "test")) {
            int n = split.equals("train") ? 7 : 3;
            List<Map<String, Object>> rows = DatasetWriterTest.chatRows(n);
            DatasetWriter.saveToDisk(root.resolve(split), DatasetWriter.inferSchema(rows), rows.iterator());
        }
        Files.writeString(root.resolve("dataset_dict.json"), "{\"splits\": [\"train\", \"test\"]}");
        return root;
    }

    @Test
    void opensTrainByDefaultAndOtherSplitsByName() throws Exception {
        Path root = dict();
        try (Dataset train = Dataset.open(root); Dataset test = Dataset.open(root, "test")) {
            assertEquals(7, train.numRows());
            assertEquals(root.resolve("train"), train.path());
            assertEquals(3, test.numRows());
        }
        try (Dataset split = Dataset.open(root.resolve("test"), "test")) {
            assertEquals(3, split.numRows());
        }
    }

    @Test
    void anUnknownSplitListsTheSplitsThereAre() throws Exception {
        Path root = dict();
        DatasetException e = assertThrows(DatasetException.class, () -> Dataset.open(root, "validation"));
        assertEquals(root.resolve("dataset_dict.json") + ": no split 'validation'; available splits: train, test", e.getMessage());
        e = assertThrows(DatasetException.class, () -> Dataset.open(Fixtures.resource("js-stream.arrow"), "test"));
        assertTrue(e.getMessage().contains("a single file holds one split"), e.getMessage());
    }
}
