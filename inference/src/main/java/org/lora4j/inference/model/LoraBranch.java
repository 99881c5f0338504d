package org.lora4j.inference.model;

import java.util.List;
import org.lora4j.adapters.lora.LoraWeights;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The low-rank branch of a LoRA linear (Hu et al. 2021) with PEFT semantics. With {@code s = lora_alpha/r}
 * (or {@code /√r} for rsLoRA) and {@code u = drop(x)·Aᵀ}:
 * <pre>
 *   forward:   y += s·u·Bᵀ
 *   backward:  dB += s·dyᵀ·u;   du = s·dy·B;   dA += duᵀ·drop(x);   dx += (du·A) ⊙ dropMask
 * </pre>
 * Both directions add into the base layer's output buffer ({@code y}, {@code dx}), so the branch allocates only
 * its rank-r product (and, with dropout, drop(x)).
 */
public final class LoraBranch {
    private LoraBranch() {
    }

    /** xd = drop(x) {@code [N, in]} (x itself without dropout), mask (null without dropout), u {@code [N, r]}. */
    public record Cache(INDArray xd, INDArray mask, INDArray u) {
    }

    /** y {@code [N, out]} += s·drop(x)·Aᵀ·Bᵀ for x {@code [N, in]}. */
    public static Cache forwardInto(INDArray x, LoraWeights l, Dropout dropout, INDArray y, Arena arena) {
        INDArray mask = dropout == null ? null : dropout.mask(l.module(), x.size(0), x.size(1), x.dataType());
        INDArray xd = x;
        if (mask != null) {
            xd = arena.take(x.dataType(), x.size(0), x.size(1)).assign(x).muli(mask);  // [N, in]
        }
        INDArray u = arena.take(x.dataType(), x.size(0), l.r());                       // [N, r]
        Blas.gemm(xd, false, l.a(), true, u, 1.0, 0.0);
        Blas.gemm(u, false, l.b(), true, y, l.scale(), 1.0);                            // y += s·u·Bᵀ
        return new Cache(xd, mask, u);
    }

    /**
     * Inference with one adapter per batch row (multi-LoRA batching, as Punica's SGMV): x {@code [N, in]} holds B
     * rows of {@code N/B} tokens each, row b using {@code rowLora.get(b)} (null: no LoRA). Each run of consecutive
     * rows with the same adapter is one pair of GEMMs on that row range of x, added into the same rows of
     * y {@code [N, out]} (sub-matrices by offset, no copies); rows without an adapter get nothing.
     */
    public static void forwardRows(INDArray x, List<LoraWeights> rowLora, INDArray y, Arena arena) {
        int batch = rowLora.size();
        long n = x.size(0);
        if (n % batch != 0) {
            throw new IllegalArgumentException("x has " + n + " rows, not a multiple of the " + batch
                    + " batch rows of the per-row forward context");
        }
        int t = (int) (n / batch);                                                      // tokens per batch row
        int in = (int) x.size(1);
        int out = (int) y.size(1);
        for (int start = 0; start < batch; ) {
            LoraWeights l = rowLora.get(start);
            int end = start + 1;
            while (end < batch && rowLora.get(end) == l) {
                end++;
            }
            if (l != null) {
                int m = (end - start) * t;
                INDArray u = arena.take(x.dataType(), m, l.r());                        // [m, r]
                Blas.gemm(false, true, m, l.r(), in, 1.0, x, (long) start * t * in, in, l.a(), 0, in, 0, u, 0, l.r());
                Blas.gemm(false, true, m, out, l.r(), l.scale(), u, 0, l.r(), l.b(), 0, l.r(), 1.0,
                        y, (long) start * t * out, out);                                // y[rows] += s·u·Bᵀ
                arena.give(u);
            }
            start = end;
        }
    }

    /** Adds dA, dB into the adapter's gradient buffers and the branch's dx into {@code dx}; gives back the cache. */
    public static void backwardInto(INDArray dy, LoraWeights l, Cache c, INDArray dx, Arena arena) {
        double s = l.scale();
        if (l.gradA() != null) {
            Blas.gemm(dy, true, c.u(), false, l.gradB(), s, 1.0);                      // dB += s·dyᵀ·u   [out, r]
        }
        INDArray du = c.u();                                                            // reuse u's buffer [N, r]
        Blas.gemm(dy, false, l.b(), false, du, s, 0.0);                                 // du = s·dy·B
        if (l.gradA() != null) {
            Blas.gemm(du, true, c.xd(), false, l.gradA(), 1.0, 1.0);                   // dA += duᵀ·xd    [r, in]
        }
        if (c.mask() == null) {
            Blas.gemm(du, false, l.a(), false, dx, 1.0, 1.0);                          // dx += du·A
        } else {
            INDArray t = c.xd();                                                        // xd no longer needed
            Blas.gemm(du, false, l.a(), false, t, 1.0, 0.0);
            dx.addi(t.muli(c.mask()));                                                  // dx += (du·A) ⊙ mask
            arena.give(t);
        }
        arena.give(du);
    }
}
