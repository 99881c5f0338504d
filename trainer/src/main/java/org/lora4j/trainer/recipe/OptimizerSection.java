package org.lora4j.trainer.recipe;

/**
 * {@code optimizer:} AdamW (see {@code org.lora4j.trainer.optim.AdamW}) and gradient clipping.
 *
 * @param lr          peak learning rate
 * @param maxGradNorm clip the global gradient norm to this; 0 = no clipping
 */
public record OptimizerSection(double lr, double weightDecay, double beta1, double beta2, double eps,
                               double maxGradNorm) {

    public static final OptimizerSection DEFAULT = new OptimizerSection(2e-4, 0.0, 0.9, 0.999, 1e-8, 1.0);

    public OptimizerSection {
        Require.positive("optimizer.lr", lr);
        Require.nonNegative("optimizer.weight_decay", weightDecay);
        Require.inHalfOpen("optimizer.beta1", beta1, 0, 1);
        Require.inHalfOpen("optimizer.beta2", beta2, 0, 1);
        Require.nonNegative("optimizer.eps", eps);
        Require.nonNegative("optimizer.max_grad_norm", maxGradNorm);
    }
}
