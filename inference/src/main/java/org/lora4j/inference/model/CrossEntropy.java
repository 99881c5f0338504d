package org.lora4j.inference.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Next-token cross-entropy with HF semantics: targets equal to {@value #IGNORE_INDEX} carry no loss, and the
 * sum is divided by a caller-given token count (the unmasked tokens of every accumulated micro-batch):
 * <pre>
 *   forward:   L = Σ_{n: t_n ≠ −100} (logsumexp(z_n) − z_n[t_n]) / count
 *   backward:  dz_n = (softmax(z_n) − onehot(t_n)) / count   (0 for ignored rows)
 * </pre>
 * One pass per row over native memory in double; the backward reuses the forward's logsumexp and can write dz
 * over the logits in place (the {@code [N, V]} logits are the largest activation of a step).
 */
public final class CrossEntropy {
    public static final int IGNORE_INDEX = -100;

    private CrossEntropy() {
    }

    /** The summed (not yet divided) loss, the number of scored tokens and each row's logsumexp. */
    public record Sum(double loss, long tokens, double[] logSumExp) {
    }

    /** logits {@code [N, V]}, targets {@code [N]} → Σ loss over scored rows, computed per row in double. */
    public static Sum sum(INDArray logits, int[] targets) {
        INDArray z = Tensors.contiguous(logits);
        int n = (int) z.size(0);
        int v = (int) z.size(1);
        Buf zb = Buf.of(z);
        double[] lse = new double[n];
        java.nio.ByteBuffer zv = vectorOk(z) ? VectorRows.bytes(z) : null;
        Rows.forEach(n, v, i -> {
            if (targets[i] == IGNORE_INDEX) {
                return;
            }
            if (zv != null) {
                lse[i] = VectorRows.logSumExp(zv, i, v);
                return;
            }
            long base = (long) i * v;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, zb.get(base + j));
            }
            double s = 0;
            for (int j = 0; j < v; j++) {
                s += Math.exp(zb.get(base + j) - max);
            }
            lse[i] = Math.log(s) + max;
        });
        double total = 0;                                               // summed in row order: reproducible
        long count = 0;
        for (int i = 0; i < n; i++) {
            if (targets[i] != IGNORE_INDEX) {
                total += lse[i] - zb.get((long) i * v + targets[i]);
                count++;
            }
        }
        return new Sum(total, count, lse);
    }

    /** dlogits {@code [N, V]} for a loss divided by {@code count}, as a new array. */
    public static INDArray backward(INDArray logits, int[] targets, double count) {
        INDArray d = logits.dup('c');
        backwardInPlace(d, sum(d, targets), targets, count);
        return d;
    }

    /** Overwrites {@code logits} with dlogits, using the logsumexp of {@link #sum} over the same logits. */
    public static void backwardInPlace(INDArray logits, Sum forward, int[] targets, double count) {
        int n = (int) logits.size(0);
        int v = (int) logits.size(1);
        Buf zb = Buf.of(logits);
        double inv = 1.0 / count;
        java.nio.ByteBuffer zv = vectorOk(logits) ? VectorRows.bytes(logits) : null;
        Rows.forEach(n, v, i -> {
            long base = (long) i * v;
            if (targets[i] == IGNORE_INDEX) {
                for (int j = 0; j < v; j++) {
                    zb.set(base + j, 0);
                }
                return;
            }
            double lse = forward.logSumExp()[i];
            if (zv != null) {
                VectorRows.softmaxScaled(zv, i, v, lse, inv);
                zb.add(base + targets[i], -inv);
                return;
            }
            for (int j = 0; j < v; j++) {
                zb.set(base + j, Math.exp(zb.get(base + j) - lse) * inv);
            }
            zb.add(base + targets[i], -inv);
        });
    }

    private static boolean vectorOk(INDArray z) {
        return Rows.VECTOR && z.dataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT && z.ordering() == 'c'
                && z.elementWiseStride() == 1;
    }

    /** Checks that every target is a vocabulary id or the ignore index. */
    public static void validate(int[] targets, int vocab) {
        for (int i = 0; i < targets.length; i++) {
            int t = targets[i];
            if (t != IGNORE_INDEX && (t < 0 || t >= vocab)) {
                throw new IllegalArgumentException("label " + t + " at flat position " + i + " is neither a token id in [0, "
                        + vocab + ") nor the ignore index " + IGNORE_INDEX);
            }
        }
    }
}
