package org.lora4j.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.tiny.TinyModelGenerator;

/** {@code lora4j data convert | inspect | stats} on a small chat dataset. */
class DataCommandTest {
    @TempDir
    static Path tmp;

    static Path model;

    static CliTest.Run run(String... args) {
        return CliTest.run(args);
    }

    @BeforeAll
    static void setUp() throws Exception {
        model = tmp.resolve("qwen");
        TinyModelGenerator.write(model, Architecture.QWEN2, TinyModelGenerator.Size.TINY, 1, DType.F32);
        Files.write(tmp.resolve("chat.jsonl"), List.of(
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Who reads the data?\"},"
                        + " {\"role\": \"assistant\", \"content\": \"The model reads the data.\"}]}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Who trains?\"},"
                        + " {\"role\": \"assistant\", \"content\": \"Our team trains the weights.\"}]}"));
        Files.write(tmp.resolve("bad.jsonl"), List.of("{\"question\": \"x\", \"answer\": \"y\"}"));
    }

    @Test
    void convertInspectAndStats() {
        Path ds = tmp.resolve("chat-ds");
        CliTest.Run c = run("data", "convert", "--input", tmp.resolve("chat.jsonl").toString(), "--out", ds.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(Files.isRegularFile(ds.resolve("state.json")) && Files.isRegularFile(ds.resolve("dataset_info.json")));

        CliTest.Run i = run("data", "inspect", "--data", ds.toString(), "--model", model.toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("format: messages"), i.out());
        // the prompt is shown masked in brackets, the answer plain
        assertTrue(i.out().contains("[<|im_start|>system") && i.out().contains("The model reads the data."), i.out());

        CliTest.Run s = run("data", "stats", "--data", ds.toString(), "--model", model.toString(), "--max-seq-len", "64");
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("2 examples") && s.out().contains("packing into 64-token rows"), s.out());
    }

    @Test
    void aDatasetWithoutKnownColumnsIsOneClearError() {
        CliTest.Run r = run("data", "inspect", "--data", tmp.resolve("bad.jsonl").toString(), "--model", model.toString());
        assertEquals(Lora4j.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().contains("bad.jsonl") && r.err().contains("question"), r.err());
    }
}
