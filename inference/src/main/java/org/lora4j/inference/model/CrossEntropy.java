package org.lora4j.inference.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Next-token cross-entropy with HF semantics: targets equal to {@value #IGNORE_INDEX} carry no loss, and the
 * sum is divided by a caller-given token count (the unmasked tokens of every accumulated micro-batch):
 * <pre>
 *   forward:   L = Σ_{n: t_n ≠ −100} (logsumexp(z_n) − z_n[t_n]) / count
 *   backward:  dz_n = (softmax(z_n) − onehot(t_n)) / count   (0 for ignored rows)
 * </pre>
 */
public final class CrossEntropy {
    public static final int IGNORE_INDEX = -100;

    private CrossEntropy() {
    }

    /** The summed (not yet divided) loss and the number of scored tokens. */
    public record Sum(double loss, long tokens) {
    }

    /** logits {@code [N, V]}, targets {@code [N]} → Σ loss over scored rows, computed per row in double. */
    public static Sum sum(INDArray logits, int[] targets) {
        INDArray lse = logSumExp(logits);                               // [N, 1]
        double total = 0;
        long n = 0;
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] != IGNORE_INDEX) {
                total += lse.getDouble(i, 0) - logits.getDouble(i, targets[i]);
                n++;
            }
        }
        return new Sum(total, n);
    }

    /** dlogits {@code [N, V]} for a loss divided by {@code count}. */
    public static INDArray backward(INDArray logits, int[] targets, double count) {
        INDArray d = Nd4j.exec(new SoftMax(logits.dup(), null, 1))[0];  // [N, V]
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] == IGNORE_INDEX) {
                d.getRow(i).assign(0);
            } else {
                d.putScalar(i, targets[i], d.getDouble(i, targets[i]) - 1.0);
            }
        }
        return d.divi(count);
    }

    static INDArray logSumExp(INDArray z) {
        INDArray max = z.max(true, 1);                                  // [N, 1]
        INDArray e = Transforms.exp(z.subColumnVector(max), false);
        return Transforms.log(e.sum(true, 1), false).addi(max);
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
