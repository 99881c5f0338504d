package org.lora4j.adapters.merge;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.lora4j.adapters.safetensors.CheckpointException;

/**
 * The output folder of a merge, built all-or-nothing: everything goes into a hidden sibling folder, which is renamed
 * onto the target only when complete (the same discipline as the atomic file writes of safetensors, one level up).
 */
final class MergeOutput {

    /** Top-level files of a model folder that are weights, and so are rewritten rather than copied. */
    private static final List<String> WEIGHT_SUFFIXES = List.of(".safetensors", ".safetensors.index.json", ".bin",
            ".bin.index.json", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf");

    private MergeOutput() {
    }

    /** Refuses an output folder that is the base itself, a file, or (without overwrite) a non-empty folder. */
    static void checkTarget(Path baseDir, Path outDir, boolean overwrite) {
        Path base = real(baseDir);
        Path out = real(outDir);
        if (base.equals(out)) {
            throw new CheckpointException("the merge output " + outDir + " is the base model folder " + baseDir
                    + "; the base is read while the output is written: choose another output folder");
        }
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new CheckpointException("the merge output " + outDir + " is a file; expected a folder to create:"
                    + " choose another path or remove the file");
        }
        if (!overwrite && !isEmptyOrAbsent(outDir)) {
            throw new CheckpointException("the merge output " + outDir + " exists and is not empty; expected a new"
                    + " or empty folder: choose another path, or pass overwrite to replace it");
        }
    }

    private static Path real(Path p) {
        try {
            return Files.exists(p) ? p.toRealPath() : p.toAbsolutePath().normalize();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    private static boolean isEmptyOrAbsent(Path dir) {
        if (!Files.exists(dir)) {
            return true;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new CheckpointException("cannot list the merge output " + dir + " (" + e + "); check its"
                    + " permissions", e);
        }
    }

    /**
     * Builds the output in a temporary sibling folder: copies the base's non-weight files, lets {@code writeWeights}
     * fill it, then renames it onto {@code outDir}. On any failure the temporary folder is removed and
     * {@code outDir} is untouched.
     */
    static void build(Path baseDir, Path outDir, boolean overwrite, Consumer<Path> writeWeights) {
        Path out = outDir.toAbsolutePath().normalize();
        Path tmp = out.resolveSibling("." + out.getFileName() + ".merging-" + suffix());
        try {
            Files.createDirectories(tmp);
            copyNonWeightFiles(baseDir, tmp);
            writeWeights.accept(tmp);
            install(tmp, out, overwrite);
            tmp = null;
        } catch (IOException e) {
            throw new CheckpointException("writing the merged model to " + outDir + " failed (" + e + "); nothing"
                    + " was written there; check free disk space and permissions of " + out.getParent(), e);
        } catch (CheckpointException e) {
            LoraMerge.NonFiniteMerge nf = nonFinite(e);
            if (nf != null) {
                throw new CheckpointException(nf.getMessage() + "; nothing was written to " + outDir, nf);
            }
            throw e;
        } catch (LoraMerge.NonFiniteMerge e) {
            throw new CheckpointException(e.getMessage() + "; nothing was written to " + outDir, e);
        } finally {
            if (tmp != null) {
                deleteRecursively(tmp);
            }
        }
    }

    private static LoraMerge.NonFiniteMerge nonFinite(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof LoraMerge.NonFiniteMerge nf) {
                return nf;
            }
        }
        return null;
    }

    /** Copies config.json, tokenizer files, etc.: top-level regular files that are neither weights nor hidden. */
    private static void copyNonWeightFiles(Path baseDir, Path to) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(baseDir)) {
            files = s.filter(Files::isRegularFile) // follows links: HF cache snapshots are symlinks to blobs
                    .filter(p -> !isWeightFile(p.getFileName().toString()))
                    .sorted().collect(Collectors.toList());
        }
        for (Path f : files) {
            Files.copy(f, to.resolve(f.getFileName().toString()), StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    static boolean isWeightFile(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.startsWith(".") || WEIGHT_SUFFIXES.stream().anyMatch(n::endsWith);
    }

    /** Moves tmp onto out; an existing out is moved aside first and deleted once the new folder is in place. */
    private static void install(Path tmp, Path out, boolean overwrite) throws IOException {
        Path old = null;
        if (Files.exists(out)) {
            if (isEmptyOrAbsent(out)) {
                Files.delete(out);
            } else if (overwrite) {
                old = out.resolveSibling("." + out.getFileName() + ".replaced-" + suffix());
                move(out, old);
            } else {
                throw new CheckpointException("the merge output " + out + " appeared while merging and is not"
                        + " empty; nothing was written there: remove it or pass overwrite");
            }
        }
        try {
            move(tmp, out);
        } catch (IOException e) {
            if (old != null) {
                move(old, out); // put the previous folder back
            }
            throw e;
        }
        if (old != null) {
            deleteRecursively(old);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static String suffix() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // best effort: a leftover hidden folder wastes space but is never mistaken for the output
        }
    }
}
