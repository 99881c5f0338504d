package org.lora4j.inference.model;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reusable activation buffers of one run (a training loop, an evaluation, a generation): dense c-order ND4J arrays
 * handed out by shape and taken back explicitly, so that a step allocates native memory only until the pool has
 * every shape it needs and then never again. Why: ND4J frees an array's native memory only after a full garbage
 * collection, and fresh pages cost ~1 ms per MiB here — allocation was 63% of a training step before this class
 * (BENCHMARKS.md). Run state, never part of the model; not thread-safe (one arena per running thread).
 * <p>
 * Ownership: whoever {@link #take}s an array {@link #give}s it back once nothing reads it any more (layers give back
 * their cache in backward); {@link #reset} returns everything at the end of a step. An array still referenced after
 * it was given back will be overwritten by the next taker — the classic pool hazard, which the layer tests catch
 * (pooled results equal unpooled ones). {@link #UNPOOLED} allocates fresh arrays and ignores {@code give}.
 */
public final class Arena {
    /** Fresh arrays every time, nothing reused: for one-off forwards. */
    public static final Arena UNPOOLED = new Arena(false);

    private final boolean pooled;
    private final Map<String, ArrayDeque<INDArray>> free = new HashMap<>();
    private final Map<INDArray, String> taken = new IdentityHashMap<>();
    private final java.util.Set<String> usedSinceReset = new java.util.HashSet<>();
    private long allocatedBytes;

    private Arena(boolean pooled) {
        this.pooled = pooled;
    }

    public static Arena pooled() {
        return new Arena(true);
    }

    /** An uninitialized dense {@code shape} array of {@code dtype}. */
    public INDArray take(DataType dtype, long... shape) {
        if (!pooled) {
            return Nd4j.createUninitialized(dtype, shape, 'c');
        }
        String key = dtype.name() + Arrays.toString(shape);
        ArrayDeque<INDArray> q = free.get(key);
        INDArray a = q == null ? null : q.poll();
        if (a == null) {
            a = Nd4j.createUninitialized(dtype, shape, 'c');
            allocatedBytes += a.length() * dtype.width();
        }
        taken.put(a, key);
        usedSinceReset.add(key);
        return a;
    }

    /** As {@link #take}, zero-filled. */
    public INDArray zeros(DataType dtype, long... shape) {
        return take(dtype, shape).assign(0);
    }

    /** Returns {@code a} to the pool; ignores null and arrays this arena did not hand out. */
    public void give(INDArray a) {
        if (a == null || !pooled) {
            return;
        }
        String key = taken.remove(a);
        if (key != null) {
            free.computeIfAbsent(key, k -> new ArrayDeque<>()).push(a);
        }
    }

    public void give(INDArray... arrays) {
        for (INDArray a : arrays) {
            give(a);
        }
    }

    /**
     * Everything handed out goes back to the pool (end of a step). Shapes this step did not ask for are dropped, so
     * that batches of changing length do not pile up buffers of every length ever seen (their native memory returns
     * at the next full collection, see {@link NativeMemory}).
     */
    public void reset() {
        for (Map.Entry<INDArray, String> e : taken.entrySet()) {
            free.computeIfAbsent(e.getValue(), k -> new ArrayDeque<>()).push(e.getKey());
        }
        taken.clear();
        free.entrySet().removeIf(e -> {
            if (usedSinceReset.contains(e.getKey())) {
                return false;
            }
            for (INDArray a : e.getValue()) {
                allocatedBytes -= a.length() * a.dataType().width();
            }
            return true;
        });
        usedSinceReset.clear();
    }

    /** Arrays handed out and not yet given back. */
    public int outstanding() {
        return taken.size();
    }

    /** Native bytes of the arrays this arena holds (handed out or pooled). */
    public long allocatedBytes() {
        return allocatedBytes;
    }
}
