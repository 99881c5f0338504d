package org.lora4j.inference.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The SwiGLU feed-forward block (Shazeer 2020) as HF {@code LlamaMLP}, with σ the logistic function:
 * <pre>
 *   forward:   g = gate(x);  u = up(x);  a = g·σ(g) ⊙ u;  y = down(a)
 *   backward:  da = down'(dy);  du = da ⊙ g·σ(g);  dg = da ⊙ u ⊙ σ(g)·(1 + g·(1 − σ(g)));  dx = gate'(dg) + up'(du)
 * </pre>
 * σ(g) is recomputed in backward rather than kept; dg and du overwrite g and u in place.
 */
public final class SwiGluMlp {
    private SwiGluMlp() {
    }

    /** g, u {@code [N, I]} and a = silu(g) ⊙ u (down's input, given back in backward). */
    public record Cache(Linear.Cache gate, Linear.Cache up, Linear.Cache down, INDArray g, INDArray u, INDArray a) {
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
        INDArray g = gate.y();
        INDArray u = up.y();
        INDArray a = ctx.arena().take(g.dataType(), g.size(0), g.size(1));
        Buf gb = Buf.of(g);
        Buf ub = Buf.of(u);
        Buf ab = Buf.of(a);
        int width = (int) g.size(1);
        boolean vector = Rows.VECTOR && g.dataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT;
        java.nio.ByteBuffer gv = vector ? VectorRows.bytes(g) : null;
        java.nio.ByteBuffer uv = vector ? VectorRows.bytes(u) : null;
        java.nio.ByteBuffer av = vector ? VectorRows.bytes(a) : null;
        Rows.forEach((int) g.size(0), width, r -> {
            if (vector) {
                VectorRows.siluMul(gv, uv, av, r, width);
                return;
            }
            for (long i = (long) r * width, end = i + width; i < end; i++) {
                double gi = gb.get(i);
                ab.set(i, gi / (1.0 + Math.exp(-gi)) * ub.get(i));       // silu(g) ⊙ u
            }
        });
        Linear.Out down = w.downProj().forward(a, ctx);                 // [N, H]
        return new Out(down.y(), new Cache(gate.cache(), up.cache(), down.cache(), g, u, a));
    }

    /** dy {@code [N, H]} → dx {@code [N, H]}; gives back the cache's buffers. */
    public static INDArray backward(LayerWeights w, INDArray dy, Cache c, ForwardContext ctx) {
        Arena arena = ctx.arena();
        INDArray da = w.downProj().backward(dy, c.down(), ctx);         // [N, I]
        arena.give(c.a());
        Buf gb = Buf.of(c.g());
        Buf ub = Buf.of(c.u());
        Buf db = Buf.of(da);
        int width = (int) da.size(1);
        boolean vector = Rows.VECTOR && da.dataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT;
        java.nio.ByteBuffer gv = vector ? VectorRows.bytes(c.g()) : null;
        java.nio.ByteBuffer uv = vector ? VectorRows.bytes(c.u()) : null;
        java.nio.ByteBuffer dv = vector ? VectorRows.bytes(da) : null;
        Rows.forEach((int) da.size(0), width, r -> {
            if (vector) {
                VectorRows.siluMulBackward(gv, uv, dv, r, width);
                return;
            }
            for (long i = (long) r * width, end = i + width; i < end; i++) {
                double g = gb.get(i);
                double s = 1.0 / (1.0 + Math.exp(-g));
                double d = db.get(i);
                ub.set(i, d * ub.get(i) * s * (1.0 + g * (1.0 - s)));   // u ← dg = da ⊙ u ⊙ silu'(g)
                gb.set(i, d * g * s);                                     // g ← du = da ⊙ silu(g)
            }
        });
        arena.give(da);
        INDArray dg = c.u();
        INDArray du = c.g();
        INDArray dx = w.gateProj().backward(dg, c.gate(), ctx);
        w.upProj().backwardInto(du, c.up(), ctx, dx, 1.0);
        arena.give(dg, du);
        return dx;
    }
}
