package org.lora4j.trainer.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report left in the run folder at the end of training: {@code loss.png} (training and validation loss per
 * step, XChart) and {@code index.html} showing it with the resolved recipe, trainable parameters, tokens seen,
 * throughput and peak memory.
 */
public final class TrainingReport {
    private TrainingReport() {
    }

    /** Peak memory of this process: heap (sum of pool peaks), ND4J/JavaCPP off-heap, resident set (VmHWM). */
    public record PeakMemory(long heapBytes, long offHeapBytes, long rssBytes) {
        public static PeakMemory now() {
            long heap = 0;
            for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
                if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                    heap += p.getPeakUsage().getUsed();
                }
            }
            long offHeap = org.bytedeco.javacpp.Pointer.totalBytes();
            long rss = -1;
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmHWM:")) {
                        rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            } catch (IOException | NumberFormatException e) {
                rss = -1;
            }
            return new PeakMemory(heap, offHeap, rss);
        }
    }

    public static void write(Path outDir, String recipeYaml, String what, long trainableParameters, long totalParameters,
                             double seconds, PeakMemory memory, Path metricsFile) {
        try {
            List<Double> steps = new ArrayList<>();
            List<Double> losses = new ArrayList<>();
            List<Double> valSteps = new ArrayList<>();
            List<Double> valLosses = new ArrayList<>();
            long tokens = 0;
            ObjectMapper json = new ObjectMapper();
            for (String line : Files.readAllLines(metricsFile)) {
                JsonNode n = json.readTree(line);
                if (n.has("loss")) {
                    steps.add(n.get("step").asDouble());
                    losses.add(n.get("loss").asDouble());
                    tokens += n.path("tokens").asLong();
                } else if (n.has("val_loss")) {
                    valSteps.add(n.get("step").asDouble());
                    valLosses.add(n.get("val_loss").asDouble());
                }
            }
            XYChart chart = new XYChartBuilder().width(800).height(450).title("Loss").xAxisTitle("optimizer step")
                    .yAxisTitle("cross-entropy (nats/token)").build();
            if (!steps.isEmpty()) {
                chart.addSeries("train loss", steps, losses).setMarker(SeriesMarkers.NONE);
            }
            if (!valSteps.isEmpty()) {
                chart.addSeries("validation loss", valSteps, valLosses).setMarker(SeriesMarkers.CIRCLE);
            }
            Path png = outDir.resolve("loss.png");
            Path tmpPng = Files.createTempFile(outDir, ".loss", ".png");
            BitmapEncoder.saveBitmap(chart, Files.newOutputStream(tmpPng), BitmapEncoder.BitmapFormat.PNG);
            Files.move(tmpPng, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

            String html = String.format(Locale.ROOT, """
                    <!doctype html>
                    <html><head><meta charset="utf-8"><title>lora4j training report</title>
                    <style>body{font-family:sans-serif;max-width:900px;margin:2em auto}td{padding:2px 12px}
                    pre{background:#f4f4f4;padding:1em;overflow:auto}</style></head><body>
                    <h1>lora4j training report</h1>
                    <img src="loss.png" alt="training and validation loss" width="800">
                    <table>
                    <tr><td>trained</td><td>%s</td></tr>
                    <tr><td>trainable parameters</td><td>%,d of %,d (%.3f%%)</td></tr>
                    <tr><td>optimizer steps</td><td>%d</td></tr>
                    <tr><td>tokens seen (scored)</td><td>%,d</td></tr>
                    <tr><td>throughput</td><td>%.1f tokens/s over %.1f s</td></tr>
                    <tr><td>final train loss</td><td>%s</td></tr>
                    <tr><td>final validation loss</td><td>%s</td></tr>
                    <tr><td>peak memory</td><td>heap %s, off-heap (ND4J) %s, resident set %s</td></tr>
                    </table>
                    <h2>Resolved recipe</h2>
                    <pre>%s</pre>
                    </body></html>
                    """, esc(what), trainableParameters, totalParameters,
                    100.0 * trainableParameters / Math.max(1, totalParameters), steps.size(), tokens,
                    tokens / Math.max(1e-9, seconds), seconds,
                    losses.isEmpty() ? "-" : String.format(Locale.ROOT, "%.4f", losses.get(losses.size() - 1)),
                    valLosses.isEmpty() ? "-" : String.format(Locale.ROOT, "%.4f", valLosses.get(valLosses.size() - 1)),
                    mib(memory.heapBytes()), mib(memory.offHeapBytes()), mib(memory.rssBytes()), esc(recipeYaml));
            Path tmp = Files.createTempFile(outDir, ".index", ".html");
            Files.writeString(tmp, html, StandardCharsets.UTF_8);
            Files.move(tmp, outDir.resolve("index.html"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the training report into " + outDir, e);
        }
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
