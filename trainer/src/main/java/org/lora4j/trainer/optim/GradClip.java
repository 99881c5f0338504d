package org.lora4j.trainer.optim;

import java.util.List;
import org.lora4j.adapters.Parameter;
import org.lora4j.inference.model.Buf;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Gradient clipping by global L2 norm, as PyTorch's {@code torch.nn.utils.clip_grad_norm_} (norm_type 2):
 * <pre>
 *   n = √(Σ_params ‖g‖²)                 (in double)
 *   c = maxNorm / (n + 1e-6);   if c &lt; 1: g ← c·g for every gradient
 * </pre>
 */
public final class GradClip {

    private GradClip() {
    }

    /**
     * Clips the gradients of {@code params} in place.
     *
     * @param maxNorm {@code <= 0} means no clipping (the norm is still returned, for logging)
     * @return the global norm before clipping; NaN or infinity is returned as is and nothing is scaled (the training
     *         loop stops on a non-finite norm)
     */
    public static double clipGlobalNorm(List<Parameter> params, double maxNorm) {
        double sumSquares = 0;
        for (Parameter p : params) {
            double n = norm2InDouble(p.grad());
            sumSquares += n * n;
        }
        double norm = Math.sqrt(sumSquares);
        if (maxNorm <= 0 || !Double.isFinite(norm)) {
            return norm;
        }
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            for (Parameter p : params) {
                p.grad().muli(coef);
            }
        }
        return norm;
    }

    /** ‖g‖₂ accumulated in double: a FLOAT tensor is widened into a temporary that is freed at once. */
    private static double norm2InDouble(INDArray g) {
        if (g.ordering() == 'c' && g.elementWiseStride() == 1
                && (g.dataType() == DataType.FLOAT || g.dataType() == DataType.DOUBLE)) {
            Buf b = Buf.of(g);                                       // one pass, no temporary
            double ss = 0;
            for (long i = 0, n = g.length(); i < n; i++) {
                double x = b.get(i);
                ss += x * x;
            }
            return Math.sqrt(ss);
        }
        if (g.dataType() == DataType.DOUBLE) {
            return g.norm2Number().doubleValue();
        }
        try (INDArray wide = g.castTo(DataType.DOUBLE)) {
            return wide.norm2Number().doubleValue();
        }
    }
}
