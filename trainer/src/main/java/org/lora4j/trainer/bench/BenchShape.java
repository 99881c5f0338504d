package org.lora4j.trainer.bench;

import java.util.List;
import org.lora4j.adapters.lora.LoraConfig;
import org.lora4j.adapters.lora.TargetModules;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.config.ModelConfig;
import org.lora4j.inference.config.RopeScaling;

/**
 * A benchmark workload: a Llama-family model shape (written as a random HF checkpoint), the training batch
 * {@code [batch, seq]} and the LoRA adapter trained on it. The two shapes of issue 5.
 *
 * @param name   the {@code --shape} name
 * @param config the model (random weights, FP32)
 * @param batch  training micro-batch rows
 * @param seq    training sequence length, also the prefill prompt length
 * @param lora   the adapter: r 8, alpha 16, no dropout
 */
public record BenchShape(String name, ModelConfig config, int batch, int seq, LoraConfig lora) {

    /** hidden 256, 4 layers, 8 heads / 4 KV heads, ffn 688, vocab 4096, untied; seq 256 × batch 4; r 8 on q..down. */
    public static final BenchShape SMALL = new BenchShape("small",
            llama(4096, 256, 688, 4, 8, 4, 10000.0, 2048, false), 4, 256,
            LoraConfig.of(8, 16, TargetModules.Names.of("q_proj", "k_proj", "v_proj", "o_proj",
                    "gate_proj", "up_proj", "down_proj")));

    /** SmolLM2-135M: hidden 576, 30 layers, 9 heads / 3 KV heads, ffn 1536, vocab 49152, tied; seq 512 × batch 1. */
    public static final BenchShape SMOLLM2 = new BenchShape("smollm2",
            llama(49152, 576, 1536, 30, 9, 3, 100000.0, 8192, true), 1, 512,
            LoraConfig.of(8, 16, new TargetModules.AllLinear()));

    public static List<BenchShape> all() {
        return List.of(SMALL, SMOLLM2);
    }

    /** Non-padding tokens of one training step (the rows are unpadded). */
    public long tokensPerStep() {
        return (long) batch * seq;
    }

    /** One line for tables: the model and workload. */
    public String describe() {
        ModelConfig c = config;
        String targets = lora.targetModules() instanceof TargetModules.Names n ? String.join(",", n.names())
                : "all linear layers";
        return String.format(java.util.Locale.ROOT,
                "hidden %d, %d layers, %d heads / %d KV, ffn %d, vocab %d%s; seq %d × batch %d; LoRA r %d (alpha %.0f)"
                        + " on %s",
                c.hiddenSize(), c.numHiddenLayers(), c.numAttentionHeads(), c.numKeyValueHeads(),
                c.intermediateSize(), c.vocabSize(), c.tieWordEmbeddings() ? ", tied embeddings" : "", seq, batch,
                lora.r(), lora.loraAlpha(), targets);
    }

    static ModelConfig llama(int vocab, int hidden, int ffn, int layers, int heads, int kvHeads, double theta,
                             int maxPos, boolean tied) {
        return new ModelConfig(Architecture.LLAMA, vocab, hidden, ffn, layers, heads, kvHeads, hidden / heads, 1e-5,
                theta, new RopeScaling.None(), maxPos, tied, false, false, 0, 0, 1, new int[] {2}, "float32");
    }
}
