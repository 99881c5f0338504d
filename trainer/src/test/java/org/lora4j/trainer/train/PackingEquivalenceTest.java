package org.lora4j.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.data.batch.Batch;
import org.lora4j.data.batch.Sequence;
import org.lora4j.data.batch.SequencePacker;
import org.lora4j.inference.config.Architecture;
import org.lora4j.inference.model.CausalLmLoss;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.TrainingBatch;
import org.lora4j.inference.model.WeightLoader;
import org.lora4j.inference.tiny.TinyModelGenerator;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A packed (and padded) batch gives every example the loss it gets alone: positions restart, attention stays
 * inside each example, padding is invisible.
 */
class PackingEquivalenceTest {
    @TempDir
    Path tmp;

    private static int[][] example(Random r, int len, int vocab, boolean maskPrompt) {
        int[] ids = new int[len];
        int[] labels = new int[len];
        for (int i = 0; i < len; i++) {
            ids[i] = r.nextInt(vocab);
            labels[i] = maskPrompt && i < len / 2 ? Sequence.IGNORE_INDEX : ids[i];
        }
        return new int[][] {ids, labels};
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void packedLossEqualsOneByOne(Architecture arch) {
        TinyModelGenerator.write(tmp, arch, new TinyModelGenerator.Size(32, 2, 4, 2, 64, 300, 64), 4, DType.F32);
        Decoder d = new Decoder(WeightLoader.load(tmp, DataType.DOUBLE));
        Random r = new Random(1);
        List<int[][]> examples = new ArrayList<>();
        for (int len : new int[] {7, 3, 12, 5, 9, 4, 6}) {
            examples.add(example(r, len, d.config().vocabSize(), examples.size() % 2 == 1));
        }
        List<Sequence> rows = SequencePacker.pack(examples, 16);
        assertTrue(rows.size() < examples.size(), "nothing was packed");
        TrainingBatch packed = Batches.toTraining(Batch.of(rows, 0));
        assertEquals(16, packed.length());

        // per-example losses out of the packed batch: keep one example's labels at a time
        for (int e = 0; e < examples.size(); e++) {
            int[][] ex = examples.get(e);
            double alone = CausalLmLoss.forward(d, new TrainingBatch(new int[][] {ex[0]}, new int[][] {ex[1]},
                    new int[][] {Sequence.of(ex[0], ex[1]).positionIds()},
                    org.lora4j.inference.model.AttentionMask.causal()), ForwardContext.BASE).loss().loss();
            double fromPacked = CausalLmLoss.forward(d, only(packed, rows, examples, e), ForwardContext.BASE).loss().loss();
            assertEquals(alone, fromPacked, 1e-9 * Math.max(1, Math.abs(alone)), "example " + e);
        }
    }

    /** The packed batch with every label outside example {@code e} set to −100. */
    private static TrainingBatch only(TrainingBatch packed, List<Sequence> rows, List<int[][]> examples, int e) {
        int[][] labels = new int[packed.batchSize()][];
        int[] target = examples.get(e)[0];
        for (int b = 0; b < rows.size(); b++) {
            labels[b] = packed.labels()[b].clone();
            Sequence s = rows.get(b);
            int start = -1;
            for (int i = 0; i + target.length <= s.length() && start < 0; i++) {
                if (s.positionIds()[i] == 0 && java.util.Arrays.equals(
                        java.util.Arrays.copyOfRange(s.inputIds(), i, i + target.length), target)) {
                    start = i;
                }
            }
            for (int i = 0; i < labels[b].length; i++) {
                if (start < 0 || i < start || i >= start + target.length) {
                    labels[b][i] = Sequence.IGNORE_INDEX;
                }
            }
        }
        return new TrainingBatch(packed.inputIds(), labels, packed.positionIds(), packed.mask());
    }

    @Test
    void packingIsBestFitAndCountsEfficiency() {
        List<int[][]> ex = new ArrayList<>();
        for (int len : new int[] {10, 6, 6, 4, 3, 3}) {
            ex.add(new int[][] {new int[len], new int[len]});
        }
        List<Sequence> rows = SequencePacker.pack(ex, 16);
        assertEquals(2, rows.size()); // 10+6 and 6+4+3+3
        assertEquals(1.0, SequencePacker.efficiency(rows, 16), 1e-12);
        for (Sequence s : rows) {
            for (int i = 0; i < s.length(); i++) {
                if (s.positionIds()[i] == 0) {
                    assertEquals(Sequence.IGNORE_INDEX, s.labels()[i], "an example start must not be a target");
                }
            }
        }
    }
}
