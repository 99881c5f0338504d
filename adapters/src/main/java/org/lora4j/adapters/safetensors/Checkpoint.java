package org.lora4j.adapters.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The weights of a Hugging Face model folder, in safetensors format (https://github.com/huggingface/safetensors):
 * either one {@code model.safetensors}, or shards named by {@code model.safetensors.index.json}, whose
 * {@code "weight_map"} maps each tensor name to its shard file. A single file wins when both exist, as in
 * transformers. Every shard is opened and cross-checked against the index up front; tensor bytes are mapped lazily.
 */
public final class Checkpoint implements AutoCloseable {

    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;
    private final List<String> names;

    private Checkpoint(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsFile> byName) {
        this.dir = dir;
        this.files = List.copyOf(files);
        this.byName = Collections.unmodifiableMap(byName);
        this.names = List.copyOf(byName.keySet());
    }

    /** Opens the weights in {@code modelDir}; a {@link CheckpointException} says what is missing or malformed. */
    public static Checkpoint open(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new CheckpointException(modelDir + (Files.exists(modelDir) ? " is a file, not a model folder"
                    : " does not exist") + "; expected a Hugging Face model folder holding " + SINGLE_FILE + " or "
                    + INDEX_FILE);
        }
        Path single = modelDir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            SafetensorsFile f = SafetensorsFile.open(single);
            Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
            f.names().forEach(n -> byName.put(n, f));
            return new Checkpoint(modelDir, List.of(f), byName);
        }
        Path index = modelDir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return openSharded(modelDir, index);
        }
        throw new CheckpointException(modelDir + " holds neither " + SINGLE_FILE + " nor " + INDEX_FILE
                + "; it holds: " + listing(modelDir) + hintForMissingWeights(modelDir));
    }

    private static Checkpoint openSharded(Path dir, Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, String> firstTensorOf = new LinkedHashMap<>();
        weightMap.forEach((name, shard) -> firstTensorOf.putIfAbsent(shard, name));
        List<String> missing = firstTensorOf.keySet().stream()
                .filter(s -> !Files.isRegularFile(dir.resolve(s))).collect(Collectors.toList());
        if (!missing.isEmpty()) {
            String first = missing.get(0);
            throw new CheckpointException(index + " names " + missing.size() + " shard file(s) missing from " + dir
                    + ": " + String.join(", ", missing) + " (e.g. '" + firstTensorOf.get(first) + "' is in " + first
                    + "); the download may be incomplete: re-download the checkpoint. The folder holds: "
                    + listing(dir));
        }
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        try {
            for (String shard : firstTensorOf.keySet()) {
                shards.put(shard, SafetensorsFile.open(dir.resolve(shard)));
            }
            Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                SafetensorsFile f = shards.get(e.getValue());
                if (!f.contains(e.getKey())) {
                    throw new CheckpointException(index + " says '" + e.getKey() + "' is in " + e.getValue()
                            + ", but that shard has no such tensor (" + SafetensorsFile.notFound(e.getKey(), f.names(),
                            f.path().toString()) + "); the index and the shards do not belong together:"
                            + " re-download the checkpoint");
                }
                byName.put(e.getKey(), f);
            }
            return new Checkpoint(dir, new ArrayList<>(shards.values()), byName);
        } catch (RuntimeException e) {
            shards.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** The index's weight_map, tensor name -> shard file name, in the index's order. */
    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = SafetensorsHeader.JSON.readTree(Files.readAllBytes(index));
        } catch (IOException e) {
            throw new CheckpointException(index + " is not readable JSON (" + e.getMessage() + "); re-download it", e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new CheckpointException(index + " has no \"weight_map\" object (found " + (weightMap == null
                    ? "none" : weightMap.getNodeType()) + "); expected {\"weight_map\": {\"tensor name\":"
                    + " \"model-00001-of-00002.safetensors\", ...}}; re-download it");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            JsonNode v = e.getValue();
            String shard = v.isTextual() ? v.textValue() : null;
            if (shard == null || shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals(".")
                    || shard.equals("..")) {
                throw new CheckpointException(index + " maps '" + e.getKey() + "' to " + v + "; expected the file"
                        + " name of a shard in the same folder, e.g. \"model-00001-of-00002.safetensors\"");
            }
            out.put(e.getKey(), shard);
        }
        return out;
    }

    private static String listing(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> entries = s.map(p -> p.getFileName() + (Files.isDirectory(p) ? "/" : "")).sorted()
                    .collect(Collectors.toList());
            if (entries.isEmpty()) {
                return "nothing (the folder is empty)";
            }
            return entries.stream().limit(30).collect(Collectors.joining(", ")) + (entries.size() > 30 ? ", ..." : "");
        } catch (IOException e) {
            return "(cannot list it: " + e.getMessage() + ")";
        }
    }

    private static String hintForMissingWeights(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
            List<String> other = names.stream().filter(n -> n.endsWith(".safetensors")).collect(Collectors.toList());
            if (!other.isEmpty()) {
                return ". Other .safetensors files are here (" + String.join(", ", other) + "): open one with"
                        + " SafetensorsFile.open, or give the model weights their Hugging Face name " + SINGLE_FILE;
            }
            if (names.stream().anyMatch(n -> n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".pth"))) {
                return ". Only PyTorch pickle weights are here; lora4j reads safetensors: convert them (in Python,"
                        + " model.save_pretrained(dir, safe_serialization=True)) or download the safetensors files";
            }
            return ". Download the model's safetensors weights into this folder";
        } catch (IOException e) {
            return "";
        }
    }

    public Path dir() {
        return dir;
    }

    /** The files opened: the single file, or the shards in index order. */
    public List<Path> files() {
        return files.stream().map(SafetensorsFile::path).collect(Collectors.toList());
    }

    /** Tensor names: the header's order for a single file, the weight_map's order for a sharded checkpoint. */
    public List<String> names() {
        return names;
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    public TensorInfo info(String name) {
        return fileOf(name).info(name);
    }

    public float[] readFloat32(String name) {
        return fileOf(name).readFloat32(name);
    }

    /** See {@link SafetensorsFile#readFloat32Into}. */
    public void readFloat32Into(String name, ByteBuffer dst) {
        fileOf(name).readFloat32Into(name, dst);
    }

    public ByteBuffer rawBytes(String name) {
        return fileOf(name).rawBytes(name);
    }

    private SafetensorsFile fileOf(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new CheckpointException(SafetensorsFile.notFound(name, names, "checkpoint " + dir));
        }
        return f;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
