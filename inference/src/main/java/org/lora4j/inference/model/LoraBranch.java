package org.lora4j.inference.model;

import org.lora4j.adapters.lora.LoraWeights;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The low-rank branch of a LoRA linear (Hu et al. 2021) with PEFT semantics. With {@code s = lora_alpha/r}
 * (or {@code /√r} for rsLoRA) and {@code u = drop(x)·Aᵀ}:
 * <pre>
 *   forward:   Δy = s·u·Bᵀ
 *   backward:  dB += s·dyᵀ·u;   du = s·dy·B;   dA += duᵀ·drop(x);   dx = (du·A) ⊙ dropMask
 * </pre>
 */
public final class LoraBranch {
    private LoraBranch() {
    }

    /** xd = drop(x) {@code [N, in]}, mask (null without dropout), u {@code [N, r]}. */
    public record Cache(INDArray xd, INDArray mask, INDArray u) {
    }

    public record Out(INDArray delta, Cache cache) {
    }

    /** x {@code [N, in]} → Δy {@code [N, out]}. */
    public static Out forward(INDArray x, LoraWeights l, Dropout dropout) {
        INDArray mask = dropout == null ? null : dropout.mask(l.module(), x.size(0), x.size(1), x.dataType());
        INDArray xd = mask == null ? x : x.mul(mask);                                  // [N, in]
        INDArray u = Nd4j.createUninitialized(x.dataType(), x.size(0), l.r());         // [N, r]
        Nd4j.gemm(xd, l.a(), u, false, true, 1.0, 0.0);
        INDArray delta = Nd4j.createUninitialized(x.dataType(), x.size(0), l.outFeatures()); // [N, out]
        Nd4j.gemm(u, l.b(), delta, false, true, l.scale(), 0.0);
        return new Out(delta, new Cache(xd, mask, u));
    }

    /** Adds dA, dB into the adapter's gradient buffers and returns the branch's dx {@code [N, in]}. */
    public static INDArray backward(INDArray dy, LoraWeights l, Cache c) {
        double s = l.scale();
        if (l.gradA() != null) {
            Nd4j.gemm(dy, c.u(), l.gradB(), true, false, s, 1.0);                      // dB += s·dyᵀ·u   [out, r]
        }
        INDArray du = Nd4j.createUninitialized(dy.dataType(), dy.size(0), l.r());      // [N, r]
        Nd4j.gemm(dy, l.b(), du, false, false, s, 0.0);                                // du = s·dy·B
        if (l.gradA() != null) {
            Nd4j.gemm(du, c.xd(), l.gradA(), true, false, 1.0, 1.0);                   // dA += duᵀ·xd    [r, in]
        }
        INDArray dx = Nd4j.createUninitialized(dy.dataType(), dy.size(0), l.inFeatures()); // [N, in]
        Nd4j.gemm(du, l.a(), dx, false, false, 1.0, 0.0);
        return c.mask() == null ? dx : dx.muli(c.mask());
    }
}
