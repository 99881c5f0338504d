package org.lora4j.inference.decode;

import java.lang.reflect.InvocationTargetException;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.ForwardContext;

/**
 * Chooses the decode step: the plain-Java {@code jdk.incubator.vector} step ({@link DecodeStep}, reading each weight
 * once per step for all rows) when the JVM was started with {@code --add-modules jdk.incubator.vector} and
 * everything in the model is supported, else none — the caller keeps ND4J's op-by-op path, which stays the
 * reference. This class never touches a Vector API class, so it loads on any JVM; the Vector API step is loaded
 * by name only once the module is known to be present.
 *
 * <p>{@code -Dlora4j.decode=nd4j} forces the ND4J path (for comparisons).
 */
public final class FastDecode {
    public static final String MODE_PROPERTY = "lora4j.decode";
    private static final String VECTOR_STEP = "org.lora4j.inference.decode.VectorDecodeStep";

    private FastDecode() {
    }

    /** Whether the boot layer has {@code jdk.incubator.vector} (i.e. the JVM got {@code --add-modules}). */
    public static boolean vectorApiPresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** The fast step for a batch of {@code batch} rows, or null when the ND4J path must be used. */
    public static DecodeStep create(Decoder decoder, ForwardContext ctx, int batch) {
        try {
            return open(decoder, ctx, batch);
        } catch (UnsupportedOperationException e) {
            return null;
        }
    }

    /** Why {@link #create} gives null for this model and context, or null when it gives the fast step. */
    public static String unsupportedReason(Decoder decoder, ForwardContext ctx, int batch) {
        try {
            open(decoder, ctx, batch);
            return null;
        } catch (UnsupportedOperationException e) {
            return e.getMessage();
        }
    }

    private static DecodeStep open(Decoder decoder, ForwardContext ctx, int batch) {
        if ("nd4j".equals(System.getProperty(MODE_PROPERTY))) {
            throw new UnsupportedOperationException("-D" + MODE_PROPERTY + "=nd4j");
        }
        if (!vectorApiPresent()) {
            throw new UnsupportedOperationException("the JVM runs without jdk.incubator.vector (add "
                    + "--add-modules jdk.incubator.vector to the java command line)");
        }
        try {
            return (DecodeStep) Class.forName(VECTOR_STEP)
                    .getDeclaredConstructor(Decoder.class, ForwardContext.class, int.class)
                    .newInstance(decoder, ctx, batch);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("could not start the Vector API decode step", e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("could not load " + VECTOR_STEP, e);
        }
    }
}
