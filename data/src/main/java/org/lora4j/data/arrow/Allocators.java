package org.lora4j.data.arrow;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * The one Arrow {@link RootAllocator} of the process; every reader and writer takes a named child of it and
 * closes that child when done, so a leak shows up as an allocator that refuses to close, named after its owner.
 */
final class Allocators {
    private static final RootAllocator ROOT = new RootAllocator(Long.MAX_VALUE);
    private static final AtomicLong COUNTER = new AtomicLong();

    private Allocators() {}

    /** A child allocator named {@code owner#n}; close it (try-with-resources) when the owner is done. */
    static BufferAllocator child(String owner) {
        return ROOT.newChildAllocator(owner + "#" + COUNTER.incrementAndGet(), 0, Long.MAX_VALUE);
    }

    /** Arrow memory held now by all readers and writers of the process, in bytes. */
    static long allocatedBytes() {
        return ROOT.getAllocatedMemory();
    }

    /** The most Arrow memory held at once since the process started, in bytes. */
    static long peakBytes() {
        return ROOT.getPeakMemoryAllocation();
    }
}
