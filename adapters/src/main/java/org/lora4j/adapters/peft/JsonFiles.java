package org.lora4j.adapters.peft;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.lora4j.adapters.safetensors.CheckpointException;

/** Small JSON files written atomically (temporary file in the same folder, fsync, rename) and read with context. */
final class JsonFiles {

    static final ObjectMapper JSON = new ObjectMapper();

    private JsonFiles() {
    }

    /** Like Python's {@code json.dumps(obj, indent=2)}: one entry per line, "key": value, {} and [] for empties. */
    static String pretty(JsonNode node) {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                .withObjectEmptySeparator("").withArrayEmptySeparator(""))
                .withObjectIndenter(indenter).withArrayIndenter(indenter);
        try {
            return JSON.writer(pp).writeValueAsString(node) + "\n";
        } catch (IOException e) {
            throw new CheckpointException("cannot serialize JSON: " + e.getMessage(), e);
        }
    }

    static void writeAtomically(Path file, JsonNode node) {
        byte[] bytes = pretty(node).getBytes(StandardCharsets.UTF_8);
        Path target = file.toAbsolutePath();
        Path tmp = target.resolveSibling("." + target.getFileName() + "." + ProcessHandle.current().pid() + "."
                + System.nanoTime() + ".tmp");
        try {
            Files.createDirectories(target.getParent());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new CheckpointException("writing " + file + " failed (" + e + "); the previous file, if any, is"
                    + " unchanged; check free disk space and permissions of " + target.getParent(), e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a stray hidden .tmp file is harmless; the original error matters more
            }
        }
    }

    static JsonNode read(Path file, String what) {
        try {
            return JSON.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new CheckpointException(file + " is not readable JSON (" + e.getMessage() + "); expected " + what
                    + "; restore or re-create it", e);
        }
    }
}
