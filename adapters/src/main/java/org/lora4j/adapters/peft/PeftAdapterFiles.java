package org.lora4j.adapters.peft;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.lora4j.adapters.lora.LinearModules;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.LoraWeights;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.adapters.safetensors.CheckpointException;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.adapters.safetensors.SafetensorsFile;
import org.lora4j.adapters.safetensors.SafetensorsWriter;
import org.lora4j.adapters.safetensors.TensorInfo;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A PEFT adapter folder (huggingface/peft, {@code PeftModel.save_pretrained} / {@code from_pretrained}):
 * {@code adapter_config.json} and {@code adapter_model.safetensors} holding, per adapted module,
 * {@code base_model.model.<module>.lora_A.weight} [r, in] and {@code .lora_B.weight} [out, r].
 * Folders written here load in PEFT, vLLM and transformers; folders written by PEFT load here.
 */
public final class PeftAdapterFiles {

    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    private static final Pattern KEY = Pattern.compile(
            Pattern.quote(LoraWeights.KEY_PREFIX) + "(.+)\\.lora_([AB])(?:\\.([^.]+))?\\.weight");

    private PeftAdapterFiles() {
    }

    /**
     * Writes {@code dir/adapter_model.safetensors} (F32, metadata {"format": "pt"}) then {@code adapter_config.json},
     * each atomically; creates {@code dir}. "all-linear" is saved as the module names it resolved to, as PEFT does.
     */
    public static void save(Path dir, LoraAdapter adapter) {
        LoraConfig cfg = adapter.config();
        if (cfg.targetModules() instanceof TargetModules.AllLinear) {
            Set<String> names = new LinkedHashSet<>();
            adapter.modules().forEach(w -> names.add(LinearModules.lastComponent(w.module())));
            cfg = cfg.withTargetModules(new TargetModules.Names(new ArrayList<>(names)));
        }
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        for (LoraWeights w : adapter.modules()) {
            tensors.add(new SafetensorsWriter.Tensor(w.keyA(), DType.F32, w.a().shape(), () -> floats(w.a())));
            tensors.add(new SafetensorsWriter.Tensor(w.keyB(), DType.F32, w.b().shape(), () -> floats(w.b())));
        }
        SafetensorsWriter.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
        JsonFiles.writeAtomically(dir.resolve(AdapterConfigJson.FILE), AdapterConfigJson.toJson(cfg));
    }

    /** The values of {@code x} as row-major floats (a copy). */
    static float[] floats(INDArray x) {
        INDArray f = x.dataType() == DataType.FLOAT ? x : x.castTo(DataType.FLOAT);
        return f.dup('c').data().asFloat();
    }

    /**
     * Reads a PEFT adapter folder into arrays of {@code dtype}, in model order. Keys that carry PEFT's adapter name
     * ({@code .lora_A.default.weight}) are accepted. Every problem is a {@link CheckpointException} saying what is
     * wrong, in which file and tensor, what was expected and how to fix it.
     */
    public static LoraAdapter load(Path dir, DataType dtype, Consumer<String> warnings) {
        Path cfgFile = dir.resolve(AdapterConfigJson.FILE);
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir + (Files.exists(dir) ? " is a file" : " does not exist")
                    + "; expected a PEFT adapter folder holding " + AdapterConfigJson.FILE + " and " + WEIGHTS_FILE);
        }
        if (!Files.isRegularFile(cfgFile)) {
            throw new CheckpointException(dir + " has no " + AdapterConfigJson.FILE + "; expected a PEFT adapter"
                    + " folder (adapter_config.json + " + WEIGHTS_FILE + "); pass the folder that"
                    + " save_pretrained wrote");
        }
        if (!Files.isRegularFile(weights)) {
            String hint = Files.isRegularFile(dir.resolve("adapter_model.bin"))
                    ? "; only adapter_model.bin (a PyTorch pickle) is there: re-save it with PEFT's"
                    + " save_pretrained(dir, safe_serialization=True)"
                    : "; the save may be incomplete: re-save the adapter";
            throw new CheckpointException(dir + " has " + AdapterConfigJson.FILE + " but no " + WEIGHTS_FILE + hint);
        }
        LoraConfig cfg = AdapterConfigJson.parse(JsonFiles.read(cfgFile, "a PEFT LoRA config"), cfgFile.toString(),
                warnings);
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            return new LoraAdapter(cfg, readModules(f, cfg, dtype));
        }
    }

    private static List<LoraWeights> readModules(SafetensorsFile f, LoraConfig cfg, DataType dtype) {
        Map<String, String[]> pairs = new TreeMap<>(); // module -> {keyA, keyB}
        Set<String> adapterNames = new TreeSet<>();
        List<String> unexpected = new ArrayList<>();
        for (String key : f.names()) {
            Matcher m = KEY.matcher(key);
            if (!m.matches()) {
                unexpected.add(key);
                continue;
            }
            adapterNames.add(m.group(3) == null ? "" : m.group(3));
            String[] p = pairs.computeIfAbsent(m.group(1), k -> new String[2]);
            int i = m.group(2).equals("A") ? 0 : 1;
            if (p[i] != null) {
                throw new CheckpointException(f.path() + " holds both '" + p[i] + "' and '" + key + "' for one"
                        + " module; expected one lora_" + m.group(2) + " per module: keep one adapter per file");
            }
            p[i] = key;
        }
        if (!unexpected.isEmpty()) {
            throw new CheckpointException(f.path() + " holds " + unexpected.size() + " tensor(s) that are not LoRA"
                    + " A/B weights: " + unexpected.stream().limit(5).collect(Collectors.joining(", "))
                    + (unexpected.size() > 5 ? ", ..." : "") + "; expected only keys like base_model.model."
                    + "<module>.lora_A.weight / .lora_B.weight" + unexpectedHint(unexpected));
        }
        if (pairs.isEmpty()) {
            throw new CheckpointException(f.path() + " holds no tensors; expected base_model.model.<module>"
                    + ".lora_A.weight / .lora_B.weight pairs; re-save the adapter");
        }
        if (adapterNames.size() > 1) {
            throw new CheckpointException(f.path() + " mixes tensors of several adapters " + adapterNames
                    + "; expected one adapter per file: save each adapter into its own folder");
        }
        List<LoraWeights> out = new ArrayList<>();
        for (Map.Entry<String, String[]> e : pairs.entrySet()) {
            String module = e.getKey();
            String keyA = e.getValue()[0];
            String keyB = e.getValue()[1];
            if (keyA == null || keyB == null) {
                String have = keyA != null ? keyA : keyB;
                throw new CheckpointException(f.path() + " has '" + have + "' but no lora_" + (keyA == null ? "A"
                        : "B") + " for module " + module + "; every module needs both lora_A [r, in] and lora_B"
                        + " [out, r]; the file is incomplete: re-save the adapter");
            }
            TensorInfo a = f.info(keyA);
            TensorInfo b = f.info(keyB);
            long[] sa = a.shape();
            long[] sb = b.shape();
            if (sa.length != 2 || sa[0] != cfg.r()) {
                throw shapeError(f, keyA, sa, "[r=" + cfg.r() + ", in]", cfg);
            }
            if (sb.length != 2 || sb[1] != cfg.r()) {
                throw shapeError(f, keyB, sb, "[out, r=" + cfg.r() + "]", cfg);
            }
            INDArray av = toArray(f.readFloat32(keyA), sa, dtype);
            INDArray bv = toArray(f.readFloat32(keyB), sb, dtype);
            out.add(new LoraWeights(module, av, bv, cfg.scale()));
        }
        out.sort((x, y) -> LinearModules.MODEL_ORDER.compare(x.module(), y.module()));
        return out;
    }

    private static CheckpointException shapeError(SafetensorsFile f, String key, long[] found, String expected,
                                                  LoraConfig cfg) {
        return new CheckpointException("tensor '" + key + "' in " + f.path() + " is " + Arrays.toString(found)
                + " but " + AdapterConfigJson.FILE + " (r=" + cfg.r() + ") expects " + expected + "; the config and"
                + " the weights do not belong together: fix \"r\" in " + AdapterConfigJson.FILE + " or re-save the"
                + " adapter");
    }

    private static String unexpectedHint(List<String> keys) {
        String all = String.join(" ", keys);
        if (all.contains("lora_embedding_")) {
            return "; LoRA on embedding layers is not supported by lora4j";
        }
        if (all.contains("lora_magnitude_vector")) {
            return "; this is a DoRA adapter, which lora4j does not implement";
        }
        if (all.contains("modules_to_save") || all.contains("original_module")) {
            return "; the adapter carries full modules (modules_to_save), which lora4j does not apply";
        }
        if (all.contains(".lora_B.") && all.contains(".bias")) {
            return "; lora_B biases (lora_bias=True) are not supported";
        }
        if (keys.stream().anyMatch(k -> !k.startsWith(LoraWeights.KEY_PREFIX) && k.contains(".lora_"))) {
            return "; keys lack PEFT's \"base_model.model.\" prefix: the file was written by another tool; convert"
                    + " it to PEFT's layout";
        }
        return "";
    }

    private static INDArray toArray(float[] values, long[] shape, DataType dtype) {
        INDArray x = Nd4j.create(values, shape, 'c');
        return dtype == DataType.FLOAT ? x : x.castTo(dtype);
    }

    /**
     * Checks that every adapted module exists in the base with the same [in, out]. Lists every problem.
     *
     * @param baseLinearShapes the base's linear layers, module -> {out, in} (see {@link LinearModules})
     * @param baseDir          where the base comes from, for messages
     */
    public static void checkFits(LoraAdapter adapter, Map<String, int[]> baseLinearShapes, String baseDir) {
        List<String> problems = new ArrayList<>();
        for (LoraWeights w : adapter.modules()) {
            int[] base = baseLinearShapes.get(w.module());
            String mine = w.module() + " [r=" + w.r() + ", in=" + w.inFeatures() + ", out=" + w.outFeatures() + "]";
            if (base == null) {
                problems.add("adapter targets " + mine + " but the base model has no linear layer of that name");
            } else if (base[0] != w.outFeatures() || base[1] != w.inFeatures()) {
                problems.add("adapter targets " + mine + " but the base model's is [in=" + base[1] + ", out="
                        + base[0] + "]");
            }
        }
        if (problems.isEmpty()) {
            return;
        }
        String example = baseLinearShapes.keySet().stream().limit(3).collect(Collectors.joining(", "));
        String trainedOn = adapter.config().baseModelNameOrPath() == null ? ""
                : " (adapter_config.json names base_model_name_or_path=" + adapter.config().baseModelNameOrPath() + ")";
        throw new CheckpointException(problems.get(0) + ": this adapter was trained on a different base model"
                + trainedOn + " than " + baseDir + "; " + problems.size() + " of " + adapter.modules().size()
                + " adapted modules do not fit" + (problems.size() > 1 ? ":\n  " + problems.stream().limit(10)
                .collect(Collectors.joining("\n  ")) + (problems.size() > 10 ? "\n  ..." : "") : "")
                + "\nThe base's linear layers are e.g. " + (example.isEmpty() ? "(none)" : example)
                + ". Use the base model the adapter was trained on.");
    }
}
