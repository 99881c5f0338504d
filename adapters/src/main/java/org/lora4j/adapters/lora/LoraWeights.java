package org.lora4j.adapters.lora;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The LoRA pair of one adapted linear layer (Hu et al. 2021): A [r, in], B [out, r] and the scale s, so that the
 * layer computes y = x·Wᵀ + s·x·Aᵀ·Bᵀ, i.e. W_eff = W + s·B·A. Names follow PEFT (huggingface/peft):
 * {@code base_model.model.<module>.lora_A.weight} / {@code .lora_B.weight}.
 * The values are trainable state; gradient buffers exist only once {@link #allocateGradients()} is called.
 */
public final class LoraWeights {

    public static final String KEY_PREFIX = "base_model.model.";

    private final String module;
    private final INDArray a; // [r, in]
    private final INDArray b; // [out, r]
    private final double scale;
    private INDArray gradA;   // [r, in], null until allocated
    private INDArray gradB;   // [out, r]

    public LoraWeights(String module, INDArray a, INDArray b, double scale) {
        if (module == null || module.isEmpty()) {
            throw new IllegalArgumentException("LoRA module name is empty; expected e.g."
                    + " model.layers.0.self_attn.q_proj");
        }
        if (a.rank() != 2 || b.rank() != 2 || a.size(0) != b.size(1)) {
            throw new IllegalArgumentException(module + ": lora_A is " + Arrays.toString(a.shape()) + " and lora_B is "
                    + Arrays.toString(b.shape()) + "; expected A [r, in] and B [out, r] with the same r");
        }
        if (a.dataType() != b.dataType()) {
            throw new IllegalArgumentException(module + ": lora_A is " + a.dataType() + " but lora_B is "
                    + b.dataType() + "; expected one dtype for both");
        }
        if (!Double.isFinite(scale)) {
            throw new IllegalArgumentException(module + ": LoRA scale is " + scale + "; expected a finite number"
                    + " (lora_alpha / r)");
        }
        this.module = module;
        this.a = a;
        this.b = b;
        this.scale = scale;
    }

    /**
     * Fresh weights as PEFT initializes them ({@code LoraLayer.reset_lora_parameters}), see {@link LoraInit}.
     * Deterministic in (seed, module): each module draws from its own {@link SplittableRandom}, so adding a target
     * does not change the others' start, and ND4J's global RNG is not touched.
     */
    public static LoraWeights init(String module, int inFeatures, int outFeatures, LoraConfig cfg, long seed,
                                   DataType dtype) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException(module + ": in_features=" + inFeatures + ", out_features="
                    + outFeatures + "; expected positive sizes from the base weight [out, in]");
        }
        int r = cfg.r();
        SplittableRandom rng = new SplittableRandom(mix(seed, module));
        double[] av = new double[Math.multiplyExact(r, inFeatures)];
        double[] bv = new double[Math.multiplyExact(outFeatures, r)];
        // kaiming_uniform_(a=√5) on [fan_out, fan_in]: bound gain·√(3/fan_in), gain = √(2/(1+5)), so 1/√fan_in
        double boundA = 1 / Math.sqrt(inFeatures);
        switch (cfg.initLoraWeights()) {
            case KAIMING_UNIFORM -> fillUniform(rng, av, boundA);
            case GAUSSIAN -> {
                for (int i = 0; i < av.length; i++) {
                    av[i] = rng.nextGaussian() / r; // nn.init.normal_(std=1/r)
                }
            }
            case RANDOM -> {
                fillUniform(rng, av, boundA);
                fillUniform(rng, bv, 1 / Math.sqrt(r)); // nn.Linear(r, out) default init: fan_in = r
            }
            default -> throw new AssertionError(cfg.initLoraWeights());
        }
        INDArray a = Nd4j.create(av, new long[] {r, inFeatures}, dtype);
        INDArray b = Nd4j.create(bv, new long[] {outFeatures, r}, dtype);
        return new LoraWeights(module, a, b, cfg.scale());
    }

    private static void fillUniform(SplittableRandom rng, double[] v, double bound) {
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextDouble(-bound, bound);
        }
    }

    /** A stable 64-bit seed from (seed, module): FNV-1a over the UTF-8 name, then SplitMix64's finalizer. */
    static long mix(long seed, String module) {
        long h = 0xcbf29ce484222325L;
        for (byte c : module.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (c & 0xff)) * 0x100000001b3L;
        }
        long z = seed ^ h;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    public String module() {
        return module;
    }

    /** lora_A [r, in]. */
    public INDArray a() {
        return a;
    }

    /** lora_B [out, r]. */
    public INDArray b() {
        return b;
    }

    /** s = lora_alpha / r, or lora_alpha / √r with rsLoRA. */
    public double scale() {
        return scale;
    }

    public int r() {
        return (int) a.size(0);
    }

    public int inFeatures() {
        return (int) a.size(1);
    }

    public int outFeatures() {
        return (int) b.size(0);
    }

    /** Creates zeroed gradA [r, in] and gradB [out, r] in the weights' dtype; a second call keeps the existing ones. */
    public void allocateGradients() {
        if (gradA == null) {
            gradA = Nd4j.zeros(a.dataType(), a.shape());
            gradB = Nd4j.zeros(b.dataType(), b.shape());
        }
    }

    /** dL/dA [r, in]; null until {@link #allocateGradients()}. */
    public INDArray gradA() {
        return gradA;
    }

    /** dL/dB [out, r]; null until {@link #allocateGradients()}. */
    public INDArray gradB() {
        return gradB;
    }

    public String keyA() {
        return KEY_PREFIX + module + ".lora_A.weight";
    }

    public String keyB() {
        return KEY_PREFIX + module + ".lora_B.weight";
    }

    /** ΔW = s·B·A [out, in], a new array in the weights' dtype. */
    public INDArray delta() {
        return b.mmul(a).muli(scale);
    }

    /** r·(in + out): the number of trainable values. */
    public long parameterCount() {
        return (long) r() * (inFeatures() + outFeatures());
    }

    @Override
    public String toString() {
        return "LoraWeights[" + module + ", r=" + r() + ", in=" + inFeatures() + ", out=" + outFeatures() + ", s="
                + scale + "]";
    }
}
