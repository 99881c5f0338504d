package org.lora4j.trainer.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.adapters.safetensors.Checkpoint;
import org.lora4j.data.arrow.Dataset;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.model.WeightLoader;
import org.lora4j.trainer.cli.Lora4j;
import org.nd4j.linalg.api.buffer.DataType;

/** The README's first command at a reduced size: every artifact exists and loads. */
class DemoTest {
    @TempDir
    Path tmp;

    @Test
    void demoPipelineEndToEnd() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            code = Lora4j.commandLine().execute("demo", "--out", tmp.toString(), "--steps", "4", "--eval-examples", "4");
        } finally {
            System.setOut(saved);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        assertTrue(out.contains("held-out accuracy:") && out.contains("HTTP 200"), out);

        try (Dataset train = Dataset.open(tmp.resolve("data/train"))) {
            assertEquals(400, train.numRows());
            assertTrue(train.columns().contains("messages"));
        }
        assertTrue(Files.isRegularFile(tmp.resolve("data/train/state.json")));
        var adapter = PeftAdapterFiles.load(tmp.resolve("run/adapter"), DataType.FLOAT, w -> { });
        assertTrue(adapter.trainableParameterCount() > 0);
        try (Checkpoint ckpt = Checkpoint.open(tmp.resolve("merged"))) {
            WeightLoader.validate(ckpt, ModelConfig.load(tmp.resolve("merged")));
        }
        try (LanguageModel merged = LanguageModel.load(tmp.resolve("merged"))) {
            assertTrue(merged.tokenizer().isPresent());
        }
        for (String f : new String[] {"run/index.html", "run/loss.png", "run/metrics.jsonl", "run/recipe.yaml",
            "demo_recipe.yaml"}) {
            assertTrue(Files.isRegularFile(tmp.resolve(f)), f);
        }
    }
}
