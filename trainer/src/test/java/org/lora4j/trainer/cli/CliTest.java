package org.lora4j.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The lora4j commands as a user runs them: output, JSON and exit codes. */
class CliTest {
    @TempDir
    static Path tmp;

    static Path model;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cl = Lora4j.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void writeModel() {
        model = tmp.resolve("tiny-qwen2");
        Run r = run("tiny-model", "--arch", "qwen2", "--out", model.toString(), "--seed", "5");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(model.resolve("model.safetensors")));
    }

    @Test
    void generateGreedyIsDeterministicAndPrintsIds() {
        Run a = run("generate", "--model", model.toString(), "--prompt", "The model reads", "--max-new-tokens", "6",
                "--ids");
        Run b = run("generate", "--model", model.toString(), "--prompt", "The model reads", "--max-new-tokens", "6",
                "--ids");
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().contains("ids: ") && a.out().contains("finish_reason: "), a.out());
        assertEquals(a.out(), b.out());
        assertTrue(a.err().contains("tokens/s"), a.err());
    }

    @Test
    void scoreJsonGivesNormalisedLogProbsForEveryPosition() throws Exception {
        Run r = run("score", "--model", model.toString(), "--prompt-ids", "5,17,42,7", "--json", "--full-logits");
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals(4, root.get("positions").size());
        JsonNode p0 = root.get("positions").get(0);
        double sum = 0;
        for (JsonNode v : p0.get("logprobs")) {
            sum += Math.exp(v.asDouble());
        }
        assertEquals(1.0, sum, 1e-4);
        assertEquals(p0.get("logprobs").get(17).asDouble(), p0.get("next_token_logprob").asDouble(), 0);
        assertEquals(p0.get("logprobs").size(), p0.get("logits").size());
        double total = 0;
        for (int t = 0; t < 3; t++) {
            total += root.get("positions").get(t).get("next_token_logprob").asDouble();
        }
        assertEquals(total, root.get("total_logprob").asDouble(), 1e-4);
    }

    @Test
    void idsWorkWithoutTokenizerFiles() throws Exception {
        Path bare = tmp.resolve("bare");
        Files.createDirectories(bare);
        Files.copy(model.resolve("config.json"), bare.resolve("config.json"));
        Files.copy(model.resolve("model.safetensors"), bare.resolve("model.safetensors"));
        Run r = run("generate", "--model", bare.toString(), "--prompt-ids", "1,2,3", "--max-new-tokens", "4");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ids: "), r.out());
        Run text = run("generate", "--model", bare.toString(), "--prompt", "hello");
        assertEquals(Lora4j.EXIT_BAD_INPUT, text.code());
        assertTrue(text.err().contains("no tokenizer.json"), text.err());
    }

    @Test
    void badInputsGiveOneClearErrorAndExitCode() {
        Run missing = run("generate", "--model", tmp.resolve("nope").toString(), "--prompt-ids", "1");
        assertEquals(Lora4j.EXIT_BAD_INPUT, missing.code());
        assertTrue(missing.err().startsWith("error: ") && missing.err().contains("does not exist"), missing.err());
        Run outOfVocab = run("score", "--model", model.toString(), "--prompt-ids", "1,999999");
        assertEquals(Lora4j.EXIT_BAD_INPUT, outOfVocab.code());
        assertTrue(outOfVocab.err().contains("outside the vocabulary"), outOfVocab.err());
        Run usage = run("generate", "--model", model.toString(), "--prompt-ids", "1,x");
        assertEquals(2, usage.code());
    }

    @Test
    void chatUsesTheTemplateAndStopsOnEos() {
        Run r = run("generate", "--model", model.toString(), "--chat", "Who reads the data?", "--system", "Be brief.",
                "--max-new-tokens", "5", "--temperature", "0.7", "--seed", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("finish_reason: "), r.out());
    }

    @Test
    void validateTrainEvalMergeAndGenerateWithTheAdapter() throws Exception {
        Path data = tmp.resolve("train.jsonl");
        Files.write(data, org.lora4j.inference.tiny.Corpus.sentences(4, 40).stream()
                .map(l -> new ObjectMapper().createObjectNode().put("text", l).toString()).toList());
        Path out = tmp.resolve("run");
        Path recipe = tmp.resolve("r.yaml");
        Files.writeString(recipe, String.join("\n",
                "model: {path: " + model + "}",
                "data: {train: " + data + ", max_seq_len: 16, pack: true, validation_split: 0.2}",
                "adapter: {r: 4, lora_alpha: 8, target_modules: [q_proj, v_proj]}",
                "training: {max_steps: 3, batch_size: 2}",
                "checkpoint: {output_dir: " + out + "}", ""));
        Run v = run("validate", "--recipe", recipe.toString());
        assertEquals(0, v.code(), v.err());
        // q_proj [64 -> 64] and v_proj [64 -> 32] on 2 layers: 2 * 4 * ((64 + 64) + (64 + 32))
        assertTrue(v.out().contains("trainable parameters: 1,792"), v.out());

        Run bad = run("validate", "--recipe", recipe.toString(), "--set", "adapter.target_modules=[qproj]");
        assertEquals(Lora4j.EXIT_BAD_INPUT, bad.code());
        assertTrue(bad.err().contains("qproj") && bad.err().contains("q_proj"), bad.err());

        Run train = run("train", "--recipe", recipe.toString());
        assertEquals(0, train.code(), train.err());
        Path adapter = out.resolve("adapter");
        assertTrue(Files.isRegularFile(adapter.resolve("adapter_config.json")));

        Run eval = run("eval", "--model", model.toString(), "--adapter", adapter.toString(), "--data", data.toString(),
                "--max-seq-len", "16");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("perplexity"), eval.out());

        Path merged = tmp.resolve("merged");
        Run merge = run("merge", "--model", model.toString(), "--adapter", adapter.toString(), "--out", merged.toString());
        assertEquals(0, merge.code(), merge.err());
        assertTrue(Files.isRegularFile(merged.resolve("tokenizer.json")));

        Run withAdapter = run("generate", "--model", model.toString(), "--adapter", adapter.toString(),
                "--prompt-ids", "1,2,3,4", "--max-new-tokens", "8", "--ids");
        Run fromMerged = run("generate", "--model", merged.toString(), "--prompt-ids", "1,2,3,4", "--max-new-tokens", "8",
                "--ids");
        assertEquals(0, withAdapter.code(), withAdapter.err());
        assertEquals(withAdapter.out(), fromMerged.out());
        Run again = run("merge", "--model", model.toString(), "--adapter", adapter.toString(), "--out", merged.toString());
        assertEquals(Lora4j.EXIT_BAD_INPUT, again.code(), "merging into a non-empty folder without --overwrite");
    }
}
