package org.lora4j.inference.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * RMSNorm (Zhang &amp; Sennrich 2019) as HF {@code LlamaRMSNorm}, per row of {@code [N, H]}:
 * <pre>
 *   forward:   r = 1/√(mean(x²) + eps);   x̂ = x·r;   y = x̂ ⊙ w
 *   backward:  g = dy ⊙ w;   dx = r · (g − x̂ · mean(g ⊙ x̂));   dw += Σₙ dy ⊙ x̂ (full-parameter training)
 * </pre>
 */
public final class RmsNorm {
    private RmsNorm() {
    }

    /** x {@code [N, H]}, rstd {@code [N, 1]}. */
    public record Cache(INDArray x, INDArray rstd) {
    }

    public record Out(INDArray y, Cache cache) {
    }

    /** x {@code [N, H]}, weight {@code [H]} → y {@code [N, H]}. */
    public static INDArray forward(INDArray x, INDArray weight, double eps) {
        return forwardWithCache(x, weight, eps).y();
    }

    public static Out forwardWithCache(INDArray x, INDArray weight, double eps) {
        INDArray ms = x.mul(x).mean(true, 1);                          // [N, 1]
        INDArray rstd = Transforms.pow(ms.addi(eps), -0.5, false);     // [N, 1]
        return new Out(x.mulColumnVector(rstd).muliRowVector(weight), new Cache(x, rstd));
    }

    /** dy {@code [N, H]} → dx {@code [N, H]}; the weight is frozen. */
    public static INDArray backward(INDArray dy, INDArray weight, Cache c) {
        return backward(dy, weight, c, null);
    }

    /** As {@link #backward(INDArray, INDArray, Cache)}, adding the weight's gradient into {@code dWeight} if not null. */
    public static INDArray backward(INDArray dy, INDArray weight, Cache c, INDArray dWeight) {
        INDArray xhat = c.x().mulColumnVector(c.rstd());               // [N, H]
        if (dWeight != null) {
            dWeight.addi(dy.mul(xhat).sum(0));
        }
        INDArray g = dy.mulRowVector(weight);                          // [N, H]
        INDArray proj = g.mul(xhat).mean(true, 1);                     // [N, 1]
        return g.subi(xhat.muliColumnVector(proj)).muliColumnVector(c.rstd());
    }
}
