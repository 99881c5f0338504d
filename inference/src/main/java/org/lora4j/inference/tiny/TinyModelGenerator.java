package org.lora4j.inference.tiny;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.lora4j.data.tokenizer.ByteLevelBpeTrainer;
import org.lora4j.data.tokenizer.ChatTemplates;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.adapters.safetensors.SafetensorsWriter;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.config.RopeScaling;
import org.lora4j.inference.model.WeightLoader;

/**
 * Writes a complete, loadable Hugging Face model folder with random weights: {@code config.json},
 * {@code model.safetensors} (real tensor names), {@code tokenizer.json} (a byte-level BPE trained on a
 * generated corpus), {@code tokenizer_config.json} with the family's chat template, and
 * {@code generation_config.json}. Seeded: the same arguments give byte-identical files.
 */
public final class TinyModelGenerator {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Model shape; {@code vocabSize} is the tokenizer's target size (specials included). */
    public record Size(int hiddenSize, int numHiddenLayers, int numAttentionHeads, int numKeyValueHeads,
                       int intermediateSize, int vocabSize, int maxPositionEmbeddings) {
        public static final Size TINY = new Size(64, 2, 4, 2, 176, 512, 512);
        public static final Size SMALL = new Size(128, 4, 8, 4, 344, 1024, 1024);
    }

    /** The special tokens and template of each family, as the real models ship them. */
    private record Family(String bos, List<String> eos, String pad, boolean addBos, String template,
                          List<String> specials) {
        static Family of(Architecture a) {
            return switch (a) {
                case LLAMA -> new Family("<|begin_of_text|>", List.of("<|end_of_text|>", "<|eot_id|>"),
                        null, true, ChatTemplates.LLAMA3,
                        List.of("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                                "<|end_header_id|>", "<|eot_id|>"));
                case QWEN2 -> new Family(null, List.of("<|im_end|>"), "<|endoftext|>", false,
                        ChatTemplates.CHATML, List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>"));
                case MISTRAL -> new Family("<s>", List.of("</s>"), null, true, ChatTemplates.MISTRAL,
                        List.of("<unk>", "<s>", "</s>", "[INST]", "[/INST]"));
            };
        }
    }

    private TinyModelGenerator() {
    }

    /** Writes the folder and returns its config. {@code dir} is created; existing files are replaced atomically. */
    public static ModelConfig write(Path dir, Architecture arch, Size size, long seed, DType storage) {
        try {
            Files.createDirectories(dir);
            Family fam = Family.of(arch);
            Path tokenizerJson = dir.resolve("tokenizer.json");
            ByteLevelBpeTrainer.write(tokenizerJson, Corpus.sentences(seed, 400), size.vocabSize(), fam.specials());
            ByteLevelBpeTrainer.writeTokenizerConfig(dir.resolve("tokenizer_config.json"), fam.bos(),
                    fam.eos().get(0), fam.pad(), fam.addBos(), fam.template());
            Map<String, Integer> vocab = TokenIds.read(tokenizerJson);
            int bos = fam.bos() == null ? vocab.get(fam.specials().get(0)) : vocab.get(fam.bos());
            int[] eos = fam.eos().stream().mapToInt(vocab::get).toArray();
            int vocabSize = vocab.size();

            ModelConfig config = config(arch, size, vocabSize, bos, eos, storage);
            writeAtomically(dir.resolve("config.json"),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config.toJson()));
            var gen = JSON.createObjectNode().put("bos_token_id", bos).put("do_sample", false);
            var eosNode = gen.putArray("eos_token_id");
            for (int e : eos) {
                eosNode.add(e);
            }
            writeAtomically(dir.resolve("generation_config.json"), JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(gen));
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors(config, seed, storage),
                    Map.of("format", "pt"));
            return config;
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the tiny model into " + dir, e);
        }
    }

    /**
     * Writes only config.json and random weights for {@code config} (no tokenizer files): benchmark-sized models
     * whose vocabulary would take too long to train a tokenizer for. Use {@code --prompt-ids} with them.
     */
    public static void writeModel(Path dir, ModelConfig config, long seed, DType storage) {
        try {
            Files.createDirectories(dir);
            writeAtomically(dir.resolve("config.json"),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config.toJson()));
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors(config, seed, storage),
                    Map.of("format", "pt"));
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the model into " + dir, e);
        }
    }

    static ModelConfig config(Architecture arch, Size s, int vocab, int bos, int[] eos, DType storage) {
        int headDim = s.hiddenSize() / s.numAttentionHeads();
        RopeScaling scaling = arch == Architecture.LLAMA
                ? new RopeScaling.Llama3(8.0, 1.0, 4.0, Math.max(8, s.maxPositionEmbeddings() / 8))
                : new RopeScaling.None();
        double theta = switch (arch) {
            case LLAMA -> 500000.0;
            case QWEN2 -> 1000000.0;
            case MISTRAL -> 10000.0;
        };
        int window = arch == Architecture.MISTRAL ? Math.max(16, s.maxPositionEmbeddings() / 16) : 0;
        String dtype = storage == DType.BF16 ? "bfloat16" : storage == DType.F16 ? "float16" : "float32";
        return new ModelConfig(arch, vocab, s.hiddenSize(), s.intermediateSize(), s.numHiddenLayers(),
                s.numAttentionHeads(), s.numKeyValueHeads(), headDim, 1e-5, theta, scaling,
                s.maxPositionEmbeddings(), arch == Architecture.QWEN2, arch == Architecture.QWEN2, false,
                window, 0, bos, eos, dtype);
    }

    /** Random weights in the order of {@link WeightLoader#expectedShapes}: N(0, 0.08²) matrices, norms near 1. */
    static List<SafetensorsWriter.Tensor> tensors(ModelConfig c, long seed, DType storage) {
        List<SafetensorsWriter.Tensor> out = new ArrayList<>();
        long i = 0;
        for (Map.Entry<String, long[]> e : WeightLoader.expectedShapes(c).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            long tensorSeed = seed * 1_000_003L + (i++);
            boolean norm = name.endsWith("norm.weight");
            boolean bias = name.endsWith(".bias");
            out.add(new SafetensorsWriter.Tensor(name, storage, shape, () -> {
                Random r = new Random(tensorSeed);
                int n = (int) numel(shape);
                float[] v = new float[n];
                for (int k = 0; k < n; k++) {
                    double g = r.nextGaussian();
                    v[k] = (float) (norm ? 1.0 + 0.1 * g : bias ? 0.02 * g : 0.08 * g);
                }
                return v;
            }));
        }
        return out;
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
