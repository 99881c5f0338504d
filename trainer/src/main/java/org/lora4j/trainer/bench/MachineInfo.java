package org.lora4j.trainer.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The machine and settings a benchmark ran with: CPU, cores, memory, JDK, ND4J backend and BLAS, thread settings,
 * and the load average (other processes on a shared machine show up there).
 */
public record MachineInfo(String date, String cpuModel, int logicalCpus, String simd, long memTotalBytes, String jdk,
                          String os, String nd4jBackend, String blasVendor, int blasThreads, int nd4jThreads,
                          String ompNumThreads, String ompWaitPolicy, long maxHeapBytes, long maxPhysicalBytes,
                          String jvmFlags, String loadAverage) {

    public static MachineInfo probe() {
        List<String> cpuinfo = lines("/proc/cpuinfo");
        String model = field(cpuinfo, "model name", System.getProperty("os.arch"));
        String flags = " " + field(cpuinfo, "flags", "") + " ";
        String simd = flags.contains(" avx512f ") ? "AVX-512, AVX2, FMA" : flags.contains(" avx2 ") ? "AVX2"
                + (flags.contains(" fma ") ? ", FMA" : "") : "no AVX2";
        String memTotal = field(lines("/proc/meminfo"), "MemTotal", "0 kB");
        long mem = Long.parseLong(memTotal.replace("kB", "").trim()) * 1024;
        return new MachineInfo(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), model,
                Runtime.getRuntime().availableProcessors(), simd, mem,
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
                System.getProperty("os.name") + " " + System.getProperty("os.version"),
                Nd4j.getBackend().getClass().getSimpleName(), String.valueOf(Nd4j.factory().blas().getBlasVendor()),
                Nd4j.factory().blas().getMaxThreads(), Nd4j.getEnvironment().maxThreads(),
                env("OMP_NUM_THREADS"), env("OMP_WAIT_POLICY"), Runtime.getRuntime().maxMemory(),
                Pointer.maxPhysicalBytes(), String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()),
                loadAverageNow());
    }

    /** The 1-, 5- and 15-minute load averages, e.g. {@code "2.10 2.31 2.05"}. */
    public static String loadAverageNow() {
        List<String> l = lines("/proc/loadavg");
        if (l.isEmpty()) {
            return "n/a";
        }
        String[] p = l.get(0).split("\\s+");
        return p.length >= 3 ? p[0] + " " + p[1] + " " + p[2] : l.get(0);
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null ? "(unset)" : v;
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    private static String field(List<String> lines, String key, String fallback) {
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals(key)) {
                return line.substring(colon + 1).trim();
            }
        }
        return fallback;
    }
}
