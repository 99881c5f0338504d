package org.lora4j.trainer.state;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A file is written whole or not at all: a temporary file in the same folder, written, fsynced, then renamed over the
 * target, and the folder fsynced. A crash leaves the previous file or the new one, never half of one.
 */
public final class AtomicFiles {

    /** Writes the body of a file into an open channel. */
    @FunctionalInterface
    public interface Body {
        void writeTo(FileChannel ch) throws IOException;
    }

    private AtomicFiles() {
    }

    public static void write(Path target, byte[] bytes) {
        write(target, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    public static void write(Path target, Body body) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        boolean existed = Files.exists(abs);
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.writeTo(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            syncFolder(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + abs + " failed (" + e + "); " + (existed
                    ? "the previous file is unchanged" : "nothing was written") + "; check free disk space and the"
                    + " permissions of " + dir, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a stray hidden .tmp file is harmless; the original error matters more
                }
            }
        }
    }

    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Makes a rename durable; some platforms cannot open a folder for fsync, which is ignored (the rename is atomic). */
    public static void syncFolder(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // e.g. Windows
        }
    }
}
