package org.lora4j.data.arrow;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Outputs that appear whole or not at all: written under a temporary name in the target's folder, flushed
 * to disk, then renamed over the target. A crash leaves the old output or the new one, never half of one
 * (at worst a hidden {@code .name.tmp-*} left beside it).
 */
final class AtomicOutput {
    private AtomicOutput() {}

    /** A fresh hidden temporary folder beside {@code target}, for {@link #publishFolder}. */
    static Path tempFolderFor(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".tmp-");
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: keep the default permissions
        }
        return tmp;
    }

    /** A fresh hidden temporary file beside {@code target}, for {@link #publishFile}. */
    static Path tempFileFor(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        return Files.createTempFile(abs.getParent(), "." + abs.getFileName() + ".", ".tmp");
    }

    /** Flushes {@code tmp} to disk and renames it to {@code target}, replacing an old file. */
    static void publishFile(Path tmp, Path target) throws IOException {
        fsync(tmp);
        move(tmp, target.toAbsolutePath());
    }

    /**
     * Renames the finished folder {@code tmp} to {@code target}. An existing target is replaced only if it is
     * empty or a dataset folder (has state.json or dataset_dict.json): lora4j never deletes other folders.
     */
    static void publishFolder(Path tmp, Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        try (var files = Files.list(tmp)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                fsync(f);
            }
        }
        if (!Files.exists(abs)) {
            move(tmp, abs);
            return;
        }
        boolean replaceable = Files.isDirectory(abs) && (Files.exists(abs.resolve("state.json"))
                || Files.exists(abs.resolve("dataset_dict.json")) || isEmpty(abs));
        if (!replaceable) {
            throw new IOException("refusing to replace " + abs + ": it exists and is not a dataset folder "
                    + "(no state.json); remove it or write somewhere else");
        }
        Path old = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".old-");
        Files.delete(old);
        move(abs, old);
        move(tmp, abs);
        deleteRecursively(old);
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void fsync(Path file) throws IOException {
        if (Files.isRegularFile(file)) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
        }
    }

    /** Deletes a file or folder tree; used to clean up temporary outputs, never user folders. */
    static void deleteRecursively(Path p) {
        if (p == null || !Files.exists(p)) {
            return;
        }
        try {
            Files.walkFileTree(p, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // a leftover temporary folder is harmless; the original error matters more
        }
    }
}
