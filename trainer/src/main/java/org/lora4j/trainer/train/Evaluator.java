package org.lora4j.trainer.train;

import java.util.List;
import org.lora4j.data.batch.Batch;
import org.lora4j.data.batch.Sequence;
import org.lora4j.inference.model.CausalLmLoss;
import org.lora4j.inference.model.CrossEntropy;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.NativeMemory;

/** Mean next-token loss and perplexity over a fixed set of rows (no dropout, no gradients). */
public final class Evaluator {
    private Evaluator() {
    }

    public record Result(double loss, double perplexity, long tokens) {
    }

    /** {@code maxBatches <= 0} evaluates every row. */
    public static Result evaluate(Decoder d, ForwardContext ctx, List<Sequence> rows, int batchSize, int maxBatches,
                                  int padId) {
        double sum = 0;
        long tokens = 0;
        int batches = 0;
        for (int start = 0; start < rows.size(); start += batchSize) {
            if (maxBatches > 0 && batches++ >= maxBatches) {
                break;
            }
            Batch b = Batch.of(rows.subList(start, Math.min(rows.size(), start + batchSize)), padId);
            CrossEntropy.Sum s = CausalLmLoss.forward(d, Batches.toTraining(b), ctx).loss();
            ctx.arena().reset();
            sum += s.loss();
            tokens += s.tokens();
            NativeMemory.collectIfGrown();
        }
        double loss = tokens == 0 ? Double.NaN : sum / tokens;
        return new Result(loss, Math.exp(loss), tokens);
    }
}
