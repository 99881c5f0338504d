package org.lora4j.trainer.progress;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long task (training steps, tokenization, merging): a live bar with rate and ETA on a terminal,
 * plain log lines everywhere else (CI, files, pipes), so logs stay readable.
 */
public interface Progress extends AutoCloseable {

    /** Reports that {@code done} of the total units are finished; {@code extra} is shown beside the bar. */
    void update(long done, String extra);

    /** A message on its own line (the bar redraws below it). */
    void println(String message);

    @Override
    void close();

    /** A bar when stdout is an interactive terminal (and not under CI), else log lines every {@code logEvery} units. */
    static Progress create(String task, long total, long logEvery, PrintStream out) {
        boolean tty = System.console() != null && System.getenv("CI") == null
                && !"dumb".equals(System.getenv("TERM"));
        return tty ? new Bar(task, total, out) : new Lines(task, total, Math.max(1, logEvery), out);
    }

    /** The terminal bar (me.tongfei progressbar). */
    final class Bar implements Progress {
        private final ProgressBar bar;
        private final PrintStream out;

        Bar(String task, long total, PrintStream out) {
            this.out = out;
            this.bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).showSpeed()
                    .setConsumer(new ConsoleProgressBarConsumer(out)).build();
        }

        @Override
        public void update(long done, String extra) {
            bar.stepTo(done);
            bar.setExtraMessage(" " + extra);
        }

        @Override
        public void println(String message) {
            out.println();
            out.println(message);
        }

        @Override
        public void close() {
            bar.close();
        }
    }

    /** Plain lines: "task 40/100 (40%) extra ETA 0:00:12". */
    final class Lines implements Progress {
        private final String task;
        private final long total;
        private final long every;
        private final PrintStream out;
        private final long start = System.nanoTime();
        private long first = -1;

        Lines(String task, long total, long every, PrintStream out) {
            this.task = task;
            this.total = total;
            this.every = every;
            this.out = out;
        }

        @Override
        public void update(long done, String extra) {
            if (first < 0) {
                first = done - 1;
            }
            if (total <= 0) { // unknown total: a count, no ETA
                if (done % every == 0) {
                    out.printf(Locale.ROOT, "%s %d  %s%n", task, done, extra);
                }
            } else if (done % every == 0 || done == total) {
                double perUnit = (System.nanoTime() - start) / 1e9 / Math.max(1, done - first);
                out.printf(Locale.ROOT, "%s %d/%d  %s  ETA %s%n", task, done, total, extra,
                        eta(perUnit * (total - done)));
            }
        }

        @Override
        public void println(String message) {
            out.println(message);
        }

        @Override
        public void close() {
            out.flush();
        }
    }

    static String eta(double seconds) {
        Duration d = Duration.ofSeconds(Math.round(seconds));
        return String.format(Locale.ROOT, "%d:%02d:%02d", d.toHours(), d.toMinutesPart(), d.toSecondsPart());
    }
}
