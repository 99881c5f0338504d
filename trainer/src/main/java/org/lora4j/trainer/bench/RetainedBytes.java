package org.lora4j.trainer.bench;

import java.lang.reflect.RecordComponent;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Bytes of array data reachable from a value made of records, collections, maps, arrays and INDArrays — e.g. the
 * cache a training forward keeps for backward, or the model weights. Each underlying ND4J buffer counts once,
 * however many views point into it; primitive arrays count their payload. Nothing is copied.
 */
public final class RetainedBytes {
    private final Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    private long bytes;

    private RetainedBytes() {
    }

    /** The array bytes reachable from {@code root}. */
    public static long of(Object root) {
        RetainedBytes r = new RetainedBytes();
        r.visit(root, 0);
        return r.bytes;
    }

    private void visit(Object o, int depth) {
        if (o == null || depth > 64 || !seen.add(o)) {
            return;
        }
        if (o instanceof INDArray a) {
            if (!a.isEmpty()) {
                DataBuffer b = a.data();
                while (b.originalDataBuffer() != null && b.originalDataBuffer() != b) {
                    b = b.originalDataBuffer();
                }
                if (seen.add(b)) {
                    bytes += b.length() * b.getElementSize();
                }
            }
        } else if (o instanceof Record rec) {
            for (RecordComponent c : rec.getClass().getRecordComponents()) {
                try {
                    c.getAccessor().setAccessible(true);
                    visit(c.getAccessor().invoke(rec), depth + 1);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    // a component that cannot be read (module boundaries) is not counted
                }
            }
        } else if (o instanceof Iterable<?> it) {
            for (Object e : it) {
                visit(e, depth + 1);
            }
        } else if (o instanceof Map<?, ?> m) {
            for (Object e : m.values()) {
                visit(e, depth + 1);
            }
        } else if (o instanceof Object[] arr) {
            for (Object e : arr) {
                visit(e, depth + 1);
            }
        } else if (o.getClass().isArray()) {
            bytes += primitiveBytes(o);
        }
    }

    private static long primitiveBytes(Object arr) {
        int n = java.lang.reflect.Array.getLength(arr);
        Class<?> t = arr.getClass().getComponentType();
        if (t == long.class || t == double.class) {
            return 8L * n;
        }
        if (t == int.class || t == float.class) {
            return 4L * n;
        }
        if (t == short.class || t == char.class) {
            return 2L * n;
        }
        if (t.isArray()) {
            long s = 0;
            for (int i = 0; i < n; i++) {
                Object e = java.lang.reflect.Array.get(arr, i);
                if (e != null) {
                    s += primitiveBytes(e);
                }
            }
            return s;
        }
        return n;
    }
}
