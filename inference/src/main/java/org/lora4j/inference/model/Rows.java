package org.lora4j.inference.model;

import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Runs a row kernel over rows {@code [0, n)} on every core (the common fork-join pool plus the caller). BLAS is idle
 * while a row kernel runs, so this does not oversubscribe the cores; rows must be independent. Small jobs stay on the
 * calling thread, where forking would cost more than it saves.
 */
public final class Rows {
    /**
     * Whether the SIMD row kernels ({@link VectorRows}) run: the JVM was started with
     * {@code --add-modules jdk.incubator.vector} (the {@code lora4j} launcher and the tests do) and
     * {@code -Dlora4j.vector=false} was not given. Without it the scalar kernels run, with the same results to float
     * rounding.
     */
    public static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !"false".equals(System.getProperty("lora4j.vector"));

    /** Below this many elements of work a kernel runs on the calling thread. */
    static final long MIN_PARALLEL_WORK = 1 << 15;

    private Rows() {
    }

    /** Calls {@code body} once for every row; {@code rowWork} is the elements one row touches (a cost hint). */
    public static void forEach(int n, long rowWork, IntConsumer body) {
        if (n < 2 || (long) n * rowWork < MIN_PARALLEL_WORK) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
        } else {
            IntStream.range(0, n).parallel().forEach(body);
        }
    }
}
