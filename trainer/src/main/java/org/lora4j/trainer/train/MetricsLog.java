package org.lora4j.trainer.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.lora4j.trainer.progress.Progress;

/**
 * Training progress for people and programs: a progress bar on a terminal, or a line per logged step elsewhere
 * (step, loss, lr, grad norm, tokens/s, ETA), and one JSON object per step or evaluation appended to
 * {@code metrics.jsonl}. On resume, lines of steps after the checkpoint (written by the interrupted run) are
 * dropped so the file reads as one run.
 */
public final class MetricsLog implements Trainer.Listener, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final PrintStream console;
    private final long logEvery;
    private Progress progress;

    public MetricsLog(Path file, PrintStream console, long logEvery, long resumedAtStep) {
        this.file = file;
        this.console = console;
        this.logEvery = Math.max(1, logEvery);
        truncateAfter(resumedAtStep);
    }

    @Override
    public void onStep(Trainer.StepMetrics m, long maxSteps) {
        if (progress == null) {
            progress = Progress.create("step", maxSteps, logEvery, console);
        }
        ObjectNode n = JSON.createObjectNode().put("step", m.step()).put("loss", m.loss()).put("lr", m.lr())
                .put("grad_norm", m.gradNorm()).put("tokens", m.tokens()).put("step_seconds", m.seconds())
                .put("offheap_bytes", org.bytedeco.javacpp.Pointer.totalBytes())
                .put("rss_bytes", org.bytedeco.javacpp.Pointer.physicalBytes());
        append(n);
        progress.update(m.step(), String.format(Locale.ROOT, "loss %.4f  lr %.2e  grad_norm %.3f  %.0f trained tok/s",
                m.loss(), m.lr(), m.gradNorm(), m.tokens() / Math.max(1e-9, m.seconds())));
    }

    @Override
    public void close() {
        if (progress != null) {
            progress.close();
        }
    }

    private void say(String message) {
        if (progress != null) {
            progress.println(message);
        } else {
            console.println(message);
        }
    }

    @Override
    public void onEval(long step, Evaluator.Result r) {
        append(JSON.createObjectNode().put("step", step).put("val_loss", r.loss()).put("val_perplexity", r.perplexity())
                .put("val_tokens", r.tokens()));
        say(String.format(Locale.ROOT, "eval at step %d: val_loss %.4f  perplexity %.3f  (%d tokens)", step, r.loss(),
                r.perplexity(), r.tokens()));
    }

    @Override
    public void onCheckpoint(long step, Path dir) {
        say("checkpoint: " + dir);
    }

    private void append(ObjectNode n) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, n.toString() + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("could not append to " + file, e);
        }
    }

    private void truncateAfter(long step) {
        if (!Files.isRegularFile(file)) {
            return;
        }
        try {
            List<String> kept = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                try {
                    JsonNode n = JSON.readTree(line);
                    if (n.path("step").asLong(Long.MAX_VALUE) <= step) {
                        kept.add(line);
                    }
                } catch (IOException ignored) {
                    // a line cut by a kill: dropped
                }
            }
            Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".metrics", ".tmp");
            Files.write(tmp, kept);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("could not rewrite " + file, e);
        }
    }
}
