package org.lora4j.trainer.recipe;

import java.util.List;

/**
 * {@code checkpoint:} where the run writes and how often it saves (see {@code org.lora4j.trainer.state.CheckpointDir}).
 *
 * @param outputDir the run folder: checkpoint-&lt;step&gt;/ folders, the final adapter, metrics
 * @param saveEvery save a checkpoint every this many optimizer steps; 0 = only at the end
 * @param keepLast  keep this many newest checkpoints
 * @param resume    {@code never}: a folder that already holds checkpoints is an error; {@code auto}: continue from
 *                  the newest checkpoint when there is one, else start (the {@code --resume} flag forces auto)
 */
public record CheckpointSection(String outputDir, long saveEvery, int keepLast, String resume) {

    public static final List<String> RESUME = List.of("never", "auto");
    public static final CheckpointSection DEFAULT = new CheckpointSection("runs/out", 0, 2, "never");

    public CheckpointSection {
        Require.present("checkpoint.output_dir", outputDir, "the run folder, e.g. runs/out");
        Require.atLeast("checkpoint.save_every", saveEvery, 0);
        Require.atLeast("checkpoint.keep_last", keepLast, 1);
        Require.oneOf("checkpoint.resume", resume, RESUME);
    }
}
