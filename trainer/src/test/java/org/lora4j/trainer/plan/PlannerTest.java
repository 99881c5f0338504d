package org.lora4j.trainer.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.config.RopeScaling;
import org.lora4j.inference.model.BaseParameters;
import org.lora4j.inference.model.CausalLmLoss;
import org.lora4j.inference.model.Dropout;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.TrainingBatch;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.lora4j.trainer.recipe.Recipe;
import org.lora4j.trainer.recipe.RecipeLoader;
import org.lora4j.trainer.train.TrainingJob;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The memory plan's arithmetic by hand on a tiny config, and its activation count against the real caches. */
class PlannerTest {
    @TempDir
    Path tmp;

    /** Llama: V=10, H=8, I=12, 2 layers, 4 heads / 2 KV heads of head_dim 2, untied lm_head. */
    static ModelConfig tiny() {
        return new ModelConfig(Architecture.LLAMA, 10, 8, 12, 2, 4, 2, 2, 1e-5, 10000, new RopeScaling.None(), 64,
                false, false, false, 0, 0, 1, new int[] {2}, "bfloat16");
    }

    static Recipe recipe(String... overrides) {
        List<String> o = new ArrayList<>(List.of("model.path=models/tiny", "data.train=data/x", "data.max_seq_len=5",
                "training.batch_size=3", "training.gradient_accumulation_steps=7", "adapter.r=2",
                "adapter.target_modules=[q_proj,v_proj]", "adapter.lora_dropout=0"));
        o.addAll(List.of(overrides));
        return RecipeLoader.parse("", "test", o);
    }

    @Test
    void loraArithmeticByHand() {
        MemoryPlan p = Planner.plan(tiny(), recipe());
        // parameters: embed 80 + lm_head 80 + norm 8 + 2 × (norms 16 + q 64 + k 32 + v 32 + o 64 + 3 × 96) = 1160
        assertEquals(1160, p.baseParameters());
        // LoRA r=2: q 2·(8+8) + v 2·(4+8) = 56 per layer
        assertEquals(4, p.adaptedModules());
        assertEquals(112, p.trainableParameters());
        assertEquals(1160 * 4, p.weights());
        assertEquals(112 * 4, p.adapterWeights());
        assertEquals(112 * 4, p.gradients());
        assertEquals(3 * 112 * 4, p.optimizerState());
        // N = 3 × 5 = 15 tokens
        MemoryPlan.Activations a = p.activations();
        assertEquals(4 * 5 * 15 * 8, a.residual());              // (2L+1) × N × H
        assertEquals(4 * 2 * 15 * (8 + 4 + 4), a.attentionQkv());
        assertEquals(4 * 2 * 3 * 4 * 25, a.attentionProbs());     // L × B × nH × T²
        assertEquals(4 * 2 * 15 * 24, a.mlp());                  // g, u
        // every linear's input: per layer normed x, normed h, o_proj's [N, 8], down_proj's [N, 12]; lm_head's
        assertEquals(4 * (2 * 15 * (8 + 8 + 8 + 12) + 15 * 8), a.linearInputs());
        assertEquals(4 * 4 * 15 * 2, a.loraU());
        assertEquals(0, a.dropout());
        assertEquals(4 * 15 * 10, a.logits());                   // dlogits overwrite them in place
        assertEquals(4 * 2 * 15 * 2, a.rope());
        assertEquals(4 * (600 + 480 + 600 + 720 + 1200 + 120 + 150 + 60), a.total());
        // attention: one query block of dP [5, 5] + dq, dO [N, 8] + dk, dv [N, 4]; MLP: da [N, 12] + dx [N, 8]
        assertEquals(4 * Math.max(25 + 15 * (2 * 8 + 2 * 4), 15 * (12 + 8)), p.backwardTemporaries());
        assertEquals(4640 + 448 + 448 + 1344 + 15720 + 1540, p.total());
        assertEquals(3 * 7 * 5, p.tokensPerStep());
    }

    @Test
    void dropoutKeepsDroppedInputAndMaskPerModule() {
        MemoryPlan p = Planner.plan(tiny(), recipe("adapter.lora_dropout=0.1"));
        assertEquals(4 * 4 * 2 * 15 * 8, p.activations().dropout());
    }

    @Test
    void fullTrainingKeepsEveryLinearInputAndAdamWStateForAllWeights() {
        ModelConfig c = tiny();
        MemoryPlan p = Planner.plan(c, recipe("adapter.method=full", "model.dtype=float64"));
        assertEquals(1160, p.trainableParameters());
        assertEquals(0, p.adapterWeights());
        assertEquals(1160 * 8, p.gradients());
        assertEquals(3 * 1160 * 8, p.optimizerState());
        // per layer: q/k/v input 8, o input 8, gate/up input 8, down input 12; lm_head input 8
        assertEquals(8 * 15 * (2 * 36 + 8), p.activations().linearInputs());
        assertEquals(0, p.activations().loraU());
        assertEquals(Planner.planFull(c, recipe("model.dtype=float64")), p);
    }

    @Test
    void layersToTransformAndLmHead() {
        MemoryPlan p = Planner.plan(tiny(), recipe("adapter.target_modules=[down_proj,lm_head]",
                "adapter.layers_to_transform=[1]"));
        // PEFT: layers_to_transform filters layer modules only; lm_head (no layer index) matches by its full name
        assertEquals(2, p.adaptedModules());
        assertEquals(2 * (8 + 12) + 2 * (10 + 8), p.trainableParameters());
        assertEquals(4 * 2 * 15 * (8 + 8 + 8 + 12) + 4 * 15 * 8, p.activations().linearInputs());
    }

    @Test
    void parameterCountsMatchThePublishedOnes() {
        Map<String, Long> published = Map.of(
                "HuggingFaceTB/SmolLM2-135M-Instruct", 134_515_008L,
                "Qwen/Qwen2.5-0.5B-Instruct", 494_032_768L,
                "meta-llama/Llama-3.2-1B-Instruct", 1_235_814_400L,
                "meta-llama/Llama-3.1-8B-Instruct", 8_030_261_248L,
                "mistralai/Mistral-7B-Instruct-v0.3", 7_248_023_552L);
        assertEquals(published.keySet(), Set.copyOf(KnownModels.ALL.stream().map(KnownModels.KnownModel::repo)
                .toList()));
        for (KnownModels.KnownModel k : KnownModels.ALL) {
            assertEquals(published.get(k.repo()), Planner.parameterCount(k.config()), k.repo());
        }
    }

    @Test
    void configComesFromTheFolderOrTheBuiltInTable() throws Exception {
        Path dir = tmp.resolve("SmolLM2-135M-Instruct");
        Planner.ResolvedConfig builtIn = Planner.resolveConfig(dir);
        assertTrue(builtIn.builtIn());
        assertEquals(576, builtIn.config().hiddenSize());
        TinyModelGenerator.write(dir, Architecture.QWEN2, TinyModelGenerator.Size.TINY, 1, DType.F32);
        Planner.ResolvedConfig fromFile = Planner.resolveConfig(dir);
        assertFalse(fromFile.builtIn());
        assertEquals(64, fromFile.config().hiddenSize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Planner.resolveConfig(tmp.resolve("my-model")));
        assertTrue(e.getMessage().contains("my-model") && e.getMessage().contains("Llama-3.1-8B-Instruct"),
                e.getMessage());
    }

    @Test
    void shapesAndCountsMatchALoadedModel() {
        for (Architecture arch : Architecture.values()) {
            Path dir = tmp.resolve(arch.modelType());
            TinyModelGenerator.write(dir, arch, TinyModelGenerator.Size.TINY, 3, DType.F32);
            try (LanguageModel lm = LanguageModel.load(dir, DataType.FLOAT)) {
                assertEquals(lm.decoder().weights().parameterCount(), Planner.parameterCount(lm.config()), arch.name());
                Map<String, int[]> want = lm.linearShapes();
                Map<String, int[]> got = Planner.linearShapes(lm.config());
                assertEquals(List.copyOf(want.keySet()), List.copyOf(got.keySet()));
                want.forEach((m, s) -> assertEquals(List.of(s[0], s[1]), List.of(got.get(m)[0], got.get(m)[1]), m));
            }
        }
    }

    /** The activations the plan counts are the arrays the real training forward keeps (plus backward's softmax). */
    @Test
    void activationsEqualWhatTheTrainingCachesHold() {
        check(Architecture.LLAMA, "adapter.target_modules=[q_proj,v_proj]");
        check(Architecture.QWEN2, "adapter.target_modules=[q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj,"
                + "lm_head]", "adapter.lora_dropout=0.1");
        check(Architecture.MISTRAL, "adapter.target_modules=all-linear", "adapter.layers_to_transform=[1]");
        check(Architecture.LLAMA, "adapter.method=full");
    }

    private void check(Architecture arch, String... overrides) {
        Path dir = tmp.resolve("m-" + arch.modelType());
        if (!Files.isDirectory(dir)) {
            TinyModelGenerator.write(dir, arch, TinyModelGenerator.Size.TINY, 3, DType.F32);
        }
        List<String> o = new ArrayList<>(List.of("model.path=" + dir, "data.train=data/x", "data.max_seq_len=7",
                "training.batch_size=2", "adapter.r=4"));
        o.addAll(List.of(overrides));
        Recipe r = RecipeLoader.parse("", "test", o);
        try (LanguageModel lm = LanguageModel.load(dir, DataType.FLOAT)) {
            MemoryPlan plan = Planner.plan(lm.config(), r);
            ForwardContext ctx;
            if (plan.full()) {
                ctx = new BaseParameters(lm.decoder().weights()).context();
            } else {
                LoraAdapter adapter = LoraAdapter.init(TrainingJob.loraConfig(r.adapter(), dir.toString()),
                        lm.linearShapes(), 1, DataType.FLOAT);
                assertEquals(plan.trainableParameters(), adapter.parameters().stream()
                        .mapToLong(p -> p.value().length()).sum());
                double p = r.adapter().loraDropout();
                ctx = new ForwardContext(adapter::get, p > 0 ? new Dropout(p, 9) : null);
            }
            Random rnd = new Random(4);
            int[][] ids = new int[2][7];
            for (int[] row : ids) {
                for (int i = 0; i < row.length; i++) {
                    row[i] = rnd.nextInt(lm.config().vocabSize());
                }
            }
            CausalLmLoss.Out out = CausalLmLoss.forward(lm.decoder(), TrainingBatch.causal(ids), ctx);
            long kept = bytesHeld(out.cache());
            assertEquals(plan.activations().total(), kept, arch + " " + List.of(overrides));
        }
    }

    /** Bytes of the distinct ND4J buffers reachable from a cache record (views share their buffer). */
    static long bytesHeld(Object cache) {
        Set<DataBuffer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        collect(cache, seen);
        return seen.stream().mapToLong(b -> b.length() * b.getElementSize()).sum();
    }

    private static void collect(Object o, Set<DataBuffer> seen) {
        if (o instanceof INDArray a) {
            DataBuffer b = a.data();
            while (b.originalDataBuffer() != null && b.originalDataBuffer() != b) {
                b = b.originalDataBuffer();
            }
            seen.add(b);
        } else if (o instanceof List<?> l) {
            l.forEach(x -> collect(x, seen));
        } else if (o != null && o.getClass().isRecord()) {
            for (RecordComponent c : o.getClass().getRecordComponents()) {
                try {
                    collect(c.getAccessor().invoke(o), seen);
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
        }
    }
}
