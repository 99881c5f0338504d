package org.lora4j.inference.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.generate.FinishReason;
import org.lora4j.inference.generate.Generation;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.Generator;

/**
 * The Generator's per-row settings that the batcher relies on: rows with different limits, samplers, seeds and stop
 * strings give in one batch exactly what each gives alone; a cancelled row ends and leaves the others unchanged.
 */
class BatchedRowsTest {

    @Test
    void perRowConfigsAndCancellation() {
        TinyServing files = TinyServing.get();
        try (LanguageModel lm = LanguageModel.load(files.model).withAdapter(files.alpha)) {
            var tok = lm.requireTokenizer("test");
            int[] eos = lm.eosTokenIds();
            List<Generator.Request> rows = List.of(
                    new Generator.Request(tok.encode("The model reads", true),
                            new GenerationConfig(5, 0, 0, 1, 1, 0, List.of(), eos)),
                    new Generator.Request(tok.encode("Who reads the data in the morning?", true),
                            new GenerationConfig(9, 0.9, 20, 0.9, 1.1, 42, List.of(), eos)),
                    new Generator.Request(tok.encode("Data", true),
                            new GenerationConfig(7, 1.0, 0, 1, 1, 7, List.of(), new int[0])),
                    new Generator.Request(tok.encode("The model reads", true),
                            new GenerationConfig(12, 0, 0, 1, 1, 0, List.of(), new int[0])));
            Generator g = new Generator(lm.decoder(), lm.forwardContext());
            java.util.function.Function<int[], String> detok = ids -> tok.decode(ids, true);
            List<Generation> alone = new ArrayList<>();
            for (Generator.Request r : rows) {
                alone.add(g.generate(List.of(r), detok, null).get(0));
            }
            List<Integer> finishedOrder = new ArrayList<>();
            List<Generation> batched = g.generate(rows, detok, new Generator.TokenListener() {
                int seen;

                @Override
                public void onToken(int row, int tokenId) {
                    seen++;
                }

                @Override
                public void onFinish(int row, Generation generation) {
                    finishedOrder.add(row);
                }

                @Override
                public boolean cancelled(int row) {
                    return row == 3 && seen >= 8; // row 3 goes away after a few steps
                }
            });
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(alone.get(i).tokenIds(), batched.get(i).tokenIds(), "row " + i);
                assertEquals(alone.get(i).text(), batched.get(i).text(), "row " + i);
                assertEquals(alone.get(i).finishReason(), batched.get(i).finishReason(), "row " + i);
            }
            Generation cut = batched.get(3);
            assertEquals(FinishReason.CANCELLED, cut.finishReason());
            assertArrayEquals(java.util.Arrays.copyOf(alone.get(3).tokenIds(), cut.tokenIds().length), cut.tokenIds());
            assertEquals(4, finishedOrder.size());
        }
    }
}
