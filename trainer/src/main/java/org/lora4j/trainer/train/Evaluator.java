package org.lora4j.trainer.train;

import java.util.List;
import org.lora4j.inference.model.CausalLmLoss;
import org.lora4j.inference.model.CrossEntropy;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.TrainingBatch;

/** Mean next-token loss and perplexity over a fixed set of sequences (no dropout, no gradients). */
public final class Evaluator {
    private Evaluator() {
    }

    public record Result(double loss, double perplexity, long tokens) {
    }

    /** {@code maxBatches <= 0} evaluates every sequence. */
    public static Result evaluate(Decoder d, ForwardContext ctx, List<int[]> sequences, int batchSize, int maxBatches) {
        double sum = 0;
        long tokens = 0;
        int batches = 0;
        for (int start = 0; start < sequences.size(); start += batchSize) {
            if (maxBatches > 0 && batches++ >= maxBatches) {
                break;
            }
            List<int[]> rows = sequences.subList(start, Math.min(sequences.size(), start + batchSize));
            CrossEntropy.Sum s = CausalLmLoss.forward(d, TrainingBatch.causal(rows.toArray(new int[0][])), ctx).loss();
            sum += s.loss();
            tokens += s.tokens();
        }
        double loss = tokens == 0 ? Double.NaN : sum / tokens;
        return new Result(loss, Math.exp(loss), tokens);
    }
}
