package org.lora4j.inference.model;

import org.bytedeco.javacpp.Pointer;

/**
 * ND4J frees an array's native memory only when its Java wrapper is garbage-collected, and a small heap rarely
 * collects: a training loop's discarded activations then pile up off-heap (seen: 20 GB for a 1 M-parameter model).
 * {@link #collectIfGrown()} asks for a GC whenever off-heap use has doubled since the last one (and is past 256 MiB),
 * which bounds the garbage to about the live set at a cost of one young collection per few steps.
 */
public final class NativeMemory {
    private static final long FLOOR = 256L << 20;
    private static long afterLastGc = FLOOR;

    private NativeMemory() {
    }

    /** Call once per training step (or every few generated tokens). */
    public static synchronized void collectIfGrown() {
        long now = Pointer.totalBytes();
        if (now > 2 * afterLastGc) {
            System.gc();
            afterLastGc = Math.max(FLOOR, Pointer.totalBytes());
        }
    }
}
