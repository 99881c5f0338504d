package org.lora4j.inference.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The SwiGLU feed-forward block (Shazeer 2020) as HF {@code LlamaMLP}, with σ the logistic function:
 * <pre>
 *   forward:   g = gate(x);  u = up(x);  a = g·σ(g);  y = down(a ⊙ u)
 *   backward:  dh = down'(dy);  du = dh ⊙ a;  dg = dh ⊙ u ⊙ σ(g)·(1 + g·(1 − σ(g)));  dx = gate'(dg) + up'(du)
 * </pre>
 */
public final class SwiGluMlp {
    private SwiGluMlp() {
    }

    public record Cache(Linear.Cache gate, Linear.Cache up, Linear.Cache down, INDArray g, INDArray u,
                        INDArray sig) {
    }

    public record Out(INDArray y, Cache cache) {
    }

    /** x {@code [N, H]} → {@code [N, H]} through the frozen base. */
    public static INDArray forward(LayerWeights w, INDArray x) {
        return forward(w, x, ForwardContext.BASE).y();
    }

    public static Out forward(LayerWeights w, INDArray x, ForwardContext ctx) {
        Linear.Out gate = w.gateProj().forward(x, ctx);                 // [N, I]
        Linear.Out up = w.upProj().forward(x, ctx);                     // [N, I]
        INDArray sig = Transforms.sigmoid(gate.y(), true);              // [N, I]
        INDArray h = sig.mul(gate.y()).muli(up.y());                    // silu(g) ⊙ u
        Linear.Out down = w.downProj().forward(h, ctx);                 // [N, H]
        return new Out(down.y(), new Cache(gate.cache(), up.cache(), down.cache(), gate.y(), up.y(), sig));
    }

    /** dy {@code [N, H]} → dx {@code [N, H]}. */
    public static INDArray backward(LayerWeights w, INDArray dy, Cache c, ForwardContext ctx) {
        INDArray dh = w.downProj().backward(dy, c.down(), ctx);         // [N, I]
        INDArray a = c.sig().mul(c.g());                                // silu(g)
        INDArray du = dh.mul(a);
        // silu'(g) = σ(g)·(1 + g·(1 − σ(g)))
        INDArray dsilu = c.sig().rsub(1.0).muli(c.g()).addi(1.0).muli(c.sig());
        INDArray dg = dh.muli(c.u()).muli(dsilu);
        INDArray dx = w.gateProj().backward(dg, c.gate(), ctx);
        return dx.addi(w.upProj().backward(du, c.up(), ctx));
    }
}
