package org.lora4j.inference.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The SwiGLU feed-forward block (Shazeer 2020) as HF {@code LlamaMLP}: {@code down(silu(gate(x)) ⊙ up(x))}. */
public final class SwiGluMlp {
    private SwiGluMlp() {
    }

    /** x {@code [N, H]} → {@code [N, H]}. */
    public static INDArray forward(LayerWeights w, INDArray x) {
        INDArray gate = w.gateProj().forward(x);              // [N, I]
        INDArray up = w.upProj().forward(x);                  // [N, I]
        INDArray act = silu(gate).muli(up);                   // [N, I]
        return w.downProj().forward(act);                     // [N, H]
    }

    /** {@code silu(g) = g · σ(g)}. */
    static INDArray silu(INDArray g) {
        return Transforms.sigmoid(g, true).muli(g);
    }
}
