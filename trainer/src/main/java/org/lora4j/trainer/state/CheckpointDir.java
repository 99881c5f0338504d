package org.lora4j.trainer.state;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoint folders of a run, {@code <outputDir>/checkpoint-<step>/} (the Hugging Face Trainer's layout), each
 * holding whatever the caller writes (adapter weights, optimizer state) plus {@value #STATE_FILE} and
 * {@value #RECIPE_FILE}.
 *
 * <p>A checkpoint appears whole or not at all: it is filled in {@code <outputDir>/.checkpoint-<step>.tmp-<random>},
 * every file and the folder are fsynced, and then the folder is renamed to {@code checkpoint-<step>}. One writer per
 * output folder is assumed: leftover temporary folders of a crashed run are removed by the next write.
 */
public final class CheckpointDir {

    public static final String STATE_FILE = "trainer_state.json";
    public static final String RECIPE_FILE = "recipe.yaml";
    public static final String PREFIX = "checkpoint-";

    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    private static final Pattern LEFTOVER = Pattern.compile("\\.checkpoint-\\d+\\.(tmp|old)-[0-9a-f]+");

    private CheckpointDir() {
    }

    /**
     * Writes {@code <outputDir>/checkpoint-<step>} atomically, replacing one of the same step, then prunes.
     *
     * @param state      must have {@code state.step() == step}
     * @param recipeYaml the resolved recipe, saved as {@value #RECIPE_FILE}
     * @param writeMore  writes the caller's files (adapter, optimizer state, ...) into the temporary folder it is given
     * @param keepLast   how many {@code checkpoint-*} folders to keep, by highest step; the one just written is always
     *                   kept; {@code <= 0} keeps all
     * @return the checkpoint folder
     */
    public static Path write(Path outputDir, long step, TrainerState state, String recipeYaml, Consumer<Path> writeMore,
                             int keepLast) {
        if (step < 0 || state.step() != step) {
            throw new IllegalArgumentException("checkpoint step " + step + " does not match the trainer state's step "
                    + state.step() + "; pass the state of the step being saved");
        }
        Path target = outputDir.resolve(PREFIX + step);
        Path tmp = outputDir.resolve(".checkpoint-" + step + ".tmp-" + randomHex());
        try {
            Files.createDirectories(outputDir);
            removeLeftovers(outputDir);
            Files.createDirectory(tmp);
            writeMore.accept(tmp);
            Files.write(tmp.resolve(RECIPE_FILE), recipeYaml.getBytes(StandardCharsets.UTF_8));
            Files.write(tmp.resolve(STATE_FILE), state.toJsonBytes());
            syncTree(tmp);
            Path old = null;
            if (Files.exists(target)) {
                // a non-empty folder cannot be renamed over: move the old one aside, then delete it
                old = outputDir.resolve(".checkpoint-" + step + ".old-" + randomHex());
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
            tmp = null;
            AtomicFiles.syncFolder(outputDir);
            if (old != null) {
                deleteTree(old);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing checkpoint " + target + " failed (" + e + "); earlier checkpoints"
                    + " in " + outputDir + " are unchanged; check free disk space and permissions", e);
        } finally {
            if (tmp != null) {
                deleteQuietly(tmp);
            }
        }
        prune(outputDir, keepLast, target);
        return target;
    }

    /** The complete checkpoint with the highest step: a {@code checkpoint-<step>} folder holding {@value #STATE_FILE}. */
    public static Optional<Path> latest(Path outputDir) {
        return complete(outputDir).stream().max(Comparator.comparingLong(CheckpointDir::stepOf));
    }

    /** Complete checkpoints in {@code outputDir}, in ascending step order; empty if the folder does not exist. */
    public static List<Path> complete(Path outputDir) {
        return checkpoints(outputDir).stream().filter(p -> Files.isRegularFile(p.resolve(STATE_FILE))).toList();
    }

    /** Reads {@code <checkpointDir>/trainer_state.json}. */
    public static TrainerState readState(Path checkpointDir) {
        Path file = checkpointDir.resolve(STATE_FILE);
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(checkpointDir + " is not a complete checkpoint: " + STATE_FILE
                    + " is missing; resume from a checkpoint-<step> folder written by lora4j (or from the run folder"
                    + " to take the latest)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
        return TrainerState.fromJson(json, file.toString());
    }

    /** The step in a {@code checkpoint-<step>} folder name; -1 for other names. */
    public static long stepOf(Path dir) {
        Matcher m = NAME.matcher(dir.getFileName().toString());
        if (!m.matches()) {
            return -1;
        }
        try {
            return Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** {@code checkpoint-<step>} folders, complete or not, in ascending step order. */
    private static List<Path> checkpoints(Path outputDir) {
        if (!Files.isDirectory(outputDir)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(outputDir)) {
            for (Path p : ds) {
                if (stepOf(p) >= 0 && Files.isDirectory(p)) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + outputDir + ": " + e, e);
        }
        out.sort(Comparator.comparingLong(CheckpointDir::stepOf));
        return out;
    }

    private static void prune(Path outputDir, int keepLast, Path justWritten) {
        if (keepLast <= 0) {
            return;
        }
        List<Path> all = new ArrayList<>(checkpoints(outputDir));
        all.sort(Comparator.comparingLong(CheckpointDir::stepOf).reversed());
        for (int i = keepLast; i < all.size(); i++) {
            Path p = all.get(i);
            if (!p.equals(justWritten)) {
                try {
                    deleteTree(p);
                } catch (IOException e) {
                    throw new UncheckedIOException("checkpoint " + justWritten + " was written, but removing the old "
                            + p + " failed (" + e + "); delete it by hand", e);
                }
            }
        }
    }

    private static void removeLeftovers(Path outputDir) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(outputDir)) {
            for (Path p : ds) {
                if (LEFTOVER.matcher(p.getFileName().toString()).matches()) {
                    deleteTree(p);
                }
            }
        }
    }

    private static void syncTree(Path dir) throws IOException {
        List<Path> paths;
        try (Stream<Path> s = Files.walk(dir)) {
            paths = s.toList();
        }
        for (Path p : paths) {
            if (Files.isRegularFile(p)) {
                try (var ch = java.nio.channels.FileChannel.open(p, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            } else if (Files.isDirectory(p)) {
                AtomicFiles.syncFolder(p);
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> s = Files.walk(dir)) {
            paths = s.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            deleteTree(dir);
        } catch (IOException ignored) {
            // the next write removes leftovers; the original error matters more
        }
    }

    private static String randomHex() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
    }
}
