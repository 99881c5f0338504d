package org.lora4j.inference.model;

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
