package org.lora4j.inference.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * RMSNorm (Zhang &amp; Sennrich 2019) as HF {@code LlamaRMSNorm}, per row of {@code [N, H]}:
 * <pre>
 *   forward:   r = 1/√(mean(x²) + eps);   x̂ = x·r;   y = x̂ ⊙ w
 *   backward:  g = dy ⊙ w;   dx = r · (g − x̂ · mean(g ⊙ x̂));   dw += Σₙ dy ⊙ x̂ (full-parameter training)
 * </pre>
 * One pass per row over native memory ({@link Buf}), sums in double.
 */
public final class RmsNorm {
    private RmsNorm() {
    }

    /** x {@code [N, H]} (kept, not copied), rstd {@code [N]} per row. */
    public record Cache(INDArray x, double[] rstd) {
    }

    public record Out(INDArray y, Cache cache) {
    }

    /** x {@code [N, H]}, weight {@code [H]} → y {@code [N, H]}. */
    public static INDArray forward(INDArray x, INDArray weight, double eps) {
        return forwardWithCache(x, weight, eps, Arena.UNPOOLED).y();
    }

    public static Out forwardWithCache(INDArray x, INDArray weight, double eps) {
        return forwardWithCache(x, weight, eps, Arena.UNPOOLED);
    }

    public static Out forwardWithCache(INDArray x, INDArray weight, double eps, Arena arena) {
        INDArray xc = Tensors.contiguous(x);
        int n = (int) xc.size(0);
        int h = (int) xc.size(1);
        INDArray y = arena.take(xc.dataType(), n, h);
        Buf xb = Buf.of(xc);
        Buf yb = Buf.of(y);
        double[] w = weight.toDoubleVector();
        double[] rstd = new double[n];
        Rows.forEach(n, h, i -> {
            long base = (long) i * h;
            double ss = 0;
            for (int j = 0; j < h; j++) {
                double v = xb.get(base + j);
                ss += v * v;
            }
            double r = 1.0 / Math.sqrt(ss / h + eps);
            rstd[i] = r;
            for (int j = 0; j < h; j++) {
                yb.set(base + j, xb.get(base + j) * r * w[j]);
            }
        });
        return new Out(y, new Cache(xc, rstd));
    }

    /** dy {@code [N, H]} → dx {@code [N, H]}; the weight is frozen. */
    public static INDArray backward(INDArray dy, INDArray weight, Cache c) {
        return backward(dy, weight, c, null, Arena.UNPOOLED);
    }

    /**
     * As {@link #backward(INDArray, INDArray, Cache)}, adding the weight's gradient into {@code dWeight} if not null;
     * dx is a new buffer from {@code arena}.
     */
    public static INDArray backward(INDArray dy, INDArray weight, Cache c, INDArray dWeight, Arena arena) {
        INDArray dyc = Tensors.contiguous(dy);
        int n = (int) dyc.size(0);
        int h = (int) dyc.size(1);
        INDArray dx = arena.take(dyc.dataType(), n, h);
        Buf xb = Buf.of(c.x());
        Buf gb = Buf.of(dyc);
        Buf db = Buf.of(dx);
        double[] w = weight.toDoubleVector();
        double[] dw = dWeight == null ? null : new double[h];
        if (dw != null) {                                               // Σₙ dy ⊙ x̂ (full-parameter training)
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < h; j++) {
                    dw[j] += gb.get((long) i * h + j) * xb.get((long) i * h + j) * c.rstd()[i];
                }
            }
        }
        Rows.forEach(n, h, i -> {
            long base = (long) i * h;
            double r = c.rstd()[i];
            double dot = 0;                                              // Σ_j g_j w_j x̂_j
            for (int j = 0; j < h; j++) {
                dot += gb.get(base + j) * w[j] * xb.get(base + j) * r;
            }
            double mean = dot / h;
            for (int j = 0; j < h; j++) {
                double xhat = xb.get(base + j) * r;
                db.set(base + j, r * (gb.get(base + j) * w[j] - xhat * mean));
            }
        });
        if (dw != null) {
            Buf dwb = Buf.of(dWeight);
            for (int j = 0; j < h; j++) {
                dwb.add(j, dw[j]);
            }
        }
        return dx;
    }
}
