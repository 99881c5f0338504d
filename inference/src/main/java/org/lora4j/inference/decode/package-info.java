/**
 * The decode step of generation in plain Java with the JDK 17 incubator Vector API: one new token per batch row
 * through every layer and lm_head, reading each weight once per step straight from the ND4J arrays' native memory
 * (FP32 or BF16) and sharing output rows across one thread per core. ND4J's op-by-op path costs 10–100 µs per op
 * and its gemv reaches a few GB/s; this step runs at the memory bandwidth instead.
 *
 * <pre>
 *   FastDecode        chooses: the Vector API step when jdk.incubator.vector is present and the model fits, else null
 *   DecodeStep        the step's interface (Generator calls it for every single-token step)
 *   VectorDecodeStep  the layer loop: RMSNorm, q/k/v (+ LoRA), RoPE, attention, o_proj, SwiGLU MLP, lm_head
 *   DecodeAttention   RoPE, KV-cache writes, attention over the visible slots
 *   DecodeOps         RMSNorm, SiLU ⊙ up, residual adds, RoPE tables
 *   MatVec            y_b = W·x_b for up to B rows per pass over W, FP32 and BF16 kernels
 *   NativeMatrix      a row view of an ND4J array's native memory (no copy)
 *   DecodePool        the calling thread + n−1 helpers, chunks handed out dynamically
 * </pre>
 * Classes here other than {@link org.lora4j.inference.decode.FastDecode},
 * {@link org.lora4j.inference.decode.DecodeStep}, {@code NativeMatrix} and {@code DecodePool} use
 * {@code jdk.incubator.vector} and are loaded only once the module is known to be present
 * ({@code --add-modules jdk.incubator.vector}); {@code -Dlora4j.decode=nd4j} forces ND4J's path,
 * {@code -Dlora4j.decode.threads=N} sets the thread count (default: available processors).
 */
package org.lora4j.inference.decode;
