package org.lora4j.inference.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import org.lora4j.adapters.safetensors.CheckpointException;

/**
 * {@code POST /v1/load_lora_adapter} ({@code {"lora_name", "lora_path"}}) and {@code POST /v1/unload_lora_adapter}
 * ({@code {"lora_name"}}), as in vLLM. Paths are read only under the {@code --adapter-dir} root given at start: a
 * relative path is resolved against it, and the real path (symbolic links followed) must stay inside it. Without a
 * root, loading at run time is off.
 */
final class AdapterAdminHandler {
    private final AdapterRegistry registry;
    private final Path root; // real path, or null: run-time loading is off

    AdapterAdminHandler(AdapterRegistry registry, Path adapterRoot) {
        this.registry = registry;
        try {
            this.root = adapterRoot == null ? null : adapterRoot.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("--adapter-dir " + adapterRoot + " does not exist or cannot be read: "
                    + e.getMessage(), e);
        }
        if (root != null && !Files.isDirectory(root)) {
            throw new IllegalArgumentException("--adapter-dir " + adapterRoot + " is not a folder");
        }
    }

    ObjectNode load(JsonFields body) {
        String name = body.requiredString("lora_name");
        String pathText = body.requiredString("lora_path");
        if (root == null) {
            throw ApiException.forbidden("loading adapters at run time is off: start the server with --adapter-dir "
                    + "DIR, and put the adapter folders under DIR", "lora_path");
        }
        Path dir = resolveUnderRoot(pathText);
        ServedModel m;
        try {
            m = registry.load(name, dir);
        } catch (CheckpointException | IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            throw ApiException.badRequest("cannot load adapter '" + name + "' from '" + pathText + "': "
                    + e.getMessage(), e instanceof IllegalArgumentException && e.getMessage().contains("name")
                    ? "lora_name" : "lora_path");
        }
        ObjectNode out = Responses.model(m, registry.base().id());
        out.put("status", "loaded");
        return out;
    }

    ObjectNode unload(JsonFields body) {
        String name = body.requiredString("lora_name");
        ServedModel m;
        try {
            m = registry.unload(name);
        } catch (UnknownModelException e) {
            throw ApiException.modelNotFound(e);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage(), "lora_name");
        }
        ObjectNode out = Responses.model(m, registry.base().id());
        out.put("status", "unloaded");
        return out;
    }

    /** The adapter folder named by the client, refused with a 403 unless it lies under the root. */
    private Path resolveUnderRoot(String pathText) {
        Path p;
        try {
            p = Path.of(pathText);
        } catch (InvalidPathException e) {
            throw ApiException.invalidValue("'lora_path' is not a valid path: " + e.getMessage(), "lora_path");
        }
        Path abs = (p.isAbsolute() ? p : root.resolve(p)).normalize();
        String outside = "'lora_path' " + pathText + " is outside the adapter folder this server may read "
                + "(--adapter-dir); give a folder under it, e.g. a name relative to it";
        if (!abs.startsWith(root)) {
            throw ApiException.forbidden(outside, "lora_path");
        }
        Path real;
        try {
            real = abs.toRealPath();
        } catch (IOException e) {
            throw ApiException.invalidValue("'lora_path' " + pathText + " does not exist under the adapter folder",
                    "lora_path");
        }
        if (!real.startsWith(root)) { // a symbolic link that leads out of the root
            throw ApiException.forbidden(outside, "lora_path");
        }
        return real;
    }
}
