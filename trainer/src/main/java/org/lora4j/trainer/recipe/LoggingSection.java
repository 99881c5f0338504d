package org.lora4j.trainer.recipe;

/**
 * {@code logging:} progress output.
 *
 * @param logEvery    log every this many optimizer steps
 * @param metricsFile JSON-lines metrics file, relative to checkpoint.output_dir
 */
public record LoggingSection(long logEvery, String metricsFile) {

    public static final LoggingSection DEFAULT = new LoggingSection(1, "metrics.jsonl");

    public LoggingSection {
        Require.atLeast("logging.log_every", logEvery, 1);
        Require.present("logging.metrics_file", metricsFile, "e.g. metrics.jsonl");
    }
}
