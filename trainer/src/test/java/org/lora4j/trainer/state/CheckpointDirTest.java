package org.lora4j.trainer.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointDirTest {

    @TempDir
    Path run;

    static TrainerState state(long step) {
        return new TrainerState(step, 1, 10 * step, 42, 100 * step, 1.0 / (step + 1), "hash");
    }

    static void writeFile(Path dir, String name, String text) {
        try {
            Files.writeString(dir.resolve(name), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path save(long step, int keepLast) {
        return CheckpointDir.write(run, step, state(step), "model:\n  path: m\n",
                dir -> writeFile(dir, "adapter_model.safetensors", "weights " + step), keepLast);
    }

    List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(run)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesEverythingThroughATemporaryFolder() throws IOException {
        save(10, 2);
        AtomicReference<Path> seen = new AtomicReference<>();
        Path ck = CheckpointDir.write(run, 20, state(20), "recipe: yes\n", dir -> {
            seen.set(dir);
            // while the callback writes, the checkpoint does not exist yet and latest() is still the previous one
            assertFalse(Files.exists(run.resolve("checkpoint-20")));
            assertEquals(Optional.of(run.resolve("checkpoint-10")), CheckpointDir.latest(run));
            writeFile(dir, "adapter_model.safetensors", "w");
        }, 2);
        assertEquals(run.resolve("checkpoint-20"), ck);
        assertTrue(seen.get().getFileName().toString().startsWith(".checkpoint-20.tmp-"), seen.get().toString());
        assertFalse(Files.exists(seen.get()));
        assertEquals(List.of("adapter_model.safetensors", "recipe.yaml", "trainer_state.json"),
                Files.list(ck).map(p -> p.getFileName().toString()).sorted().toList());
        assertEquals("recipe: yes\n", Files.readString(ck.resolve(CheckpointDir.RECIPE_FILE)));
        assertEquals(state(20), CheckpointDir.readState(ck));
        assertEquals(List.of("checkpoint-10", "checkpoint-20"), names());
    }

    @Test
    void keepsTheNewestKeepLastAndTheOneJustWritten() throws IOException {
        save(10, 2);
        save(20, 2);
        save(30, 2);
        assertEquals(List.of("checkpoint-20", "checkpoint-30"), names());
        // a resumed run writing a lower step (e.g. after going back to checkpoint-5) never loses what it just wrote
        save(5, 2);
        assertEquals(List.of("checkpoint-20", "checkpoint-30", "checkpoint-5"), names());
        save(40, 1);
        assertEquals(List.of("checkpoint-40"), names());
        save(50, 0); // 0 keeps all
        save(60, 0);
        assertEquals(List.of("checkpoint-40", "checkpoint-50", "checkpoint-60"), names());
    }

    @Test
    void latestIgnoresTemporaryAndIncompleteFolders() throws IOException {
        assertEquals(Optional.empty(), CheckpointDir.latest(run.resolve("not-there")));
        assertEquals(Optional.empty(), CheckpointDir.latest(run));
        save(30, 5);
        save(100, 5);
        Files.delete(run.resolve("checkpoint-100").resolve(CheckpointDir.STATE_FILE)); // incomplete
        Path temp = Files.createDirectory(run.resolve(".checkpoint-200.tmp-abc"));
        writeFile(temp, CheckpointDir.STATE_FILE, state(200).toJson());
        Files.createDirectory(run.resolve("checkpoint-final"));
        writeFile(run, "checkpoint-300", "a file, not a folder");
        assertEquals(Optional.of(run.resolve("checkpoint-30")), CheckpointDir.latest(run));
        assertEquals(List.of(run.resolve("checkpoint-30")), CheckpointDir.complete(run));
        // checkpoint numbers compare as numbers, not strings
        save(9, 5);
        save(1000, 5);
        assertEquals(Optional.of(run.resolve("checkpoint-1000")), CheckpointDir.latest(run));
    }

    @Test
    void aFailingCallbackLeavesNothingBehind() throws IOException {
        save(10, 2);
        RuntimeException boom = new IllegalStateException("disk full");
        RuntimeException thrown = assertThrows(IllegalStateException.class, () -> CheckpointDir.write(run, 20,
                state(20), "r", dir -> {
                    writeFile(dir, "half", "x");
                    throw boom;
                }, 2));
        assertEquals(boom, thrown);
        assertEquals(List.of("checkpoint-10"), names());
    }

    @Test
    void rewritingAStepReplacesTheWholeFolder() throws IOException {
        CheckpointDir.write(run, 10, state(10), "r", dir -> writeFile(dir, "a.txt", "a"), 2);
        CheckpointDir.write(run, 10, state(10), "r", dir -> writeFile(dir, "b.txt", "b"), 2);
        Path ck = run.resolve("checkpoint-10");
        assertFalse(Files.exists(ck.resolve("a.txt")));
        assertTrue(Files.exists(ck.resolve("b.txt")));
        assertEquals(List.of("checkpoint-10"), names());
    }

    @Test
    void leftoversOfACrashedWriteAreRemoved() throws IOException {
        Path crashed = Files.createDirectory(run.resolve(".checkpoint-7.tmp-1f"));
        writeFile(crashed, "adapter_model.safetensors", "half");
        save(8, 2);
        assertEquals(List.of("checkpoint-8"), names());
    }

    @Test
    void errors() {
        String msg = assertThrows(IllegalArgumentException.class,
                () -> CheckpointDir.write(run, 11, state(10), "r", d -> { }, 2)).getMessage();
        assertTrue(msg.contains("checkpoint step 11 does not match the trainer state's step 10"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> CheckpointDir.readState(run)).getMessage();
        assertTrue(msg.contains("is not a complete checkpoint: trainer_state.json is missing"), msg);
        assertEquals(12, CheckpointDir.stepOf(Path.of("x/checkpoint-12")));
        assertEquals(-1, CheckpointDir.stepOf(Path.of("x/checkpoint-12b")));
    }
}
