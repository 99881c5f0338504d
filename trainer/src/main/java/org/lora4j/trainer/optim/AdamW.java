package org.lora4j.trainer.optim;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.lora4j.adapters.Parameter;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.adapters.safetensors.SafetensorsFile;
import org.lora4j.adapters.safetensors.TensorInfo;
import org.lora4j.inference.model.Buf;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
 * Algorithm 2), with the semantics of PyTorch's {@code torch.optim.AdamW} (amsgrad=False, maximize=False). At step
 * {@code t = 1, 2, ...}, for every parameter p with gradient g:
 * <pre>
 *   p ← p − lr·wd·p                         (decay first, on the old p; computed as p·(1 − lr·wd))
 *   m ← β1·m + (1−β1)·g
 *   v ← β2·v + (1−β2)·g²
 *   m̂ = m / (1 − β1^t),   v̂ = v / (1 − β2^t)
 *   p ← p − lr·m̂ / (√v̂ + ε)                 (computed as torch: p − (lr/(1−β1^t)) · m / (√v/√(1−β2^t) + ε))
 * </pre>
 * The moments m, v live in the parameter's dtype (FLOAT or DOUBLE), as in torch; scalars are computed in double and
 * rounded to that dtype by each ND4J op. Updates are in-place ND4J ops on one scratch array per parameter, so views,
 * any memory order and either backend work, and a step allocates nothing per parameter.
 *
 * <p>{@link #save}/{@link #load} write the moments and the step count to a safetensors file with their exact bits, so
 * a resumed run continues bitwise as if it had not stopped.
 */
public final class AdamW {

    /** Safetensors name suffixes, after the parameter name (torch's state_dict calls them exp_avg, exp_avg_sq). */
    public static final String EXP_AVG = ".exp_avg";
    public static final String EXP_AVG_SQ = ".exp_avg_sq";

    private final List<Parameter> params;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final List<INDArray> m = new ArrayList<>();       // first moments, one per parameter, same shape/dtype
    private final List<INDArray> v = new ArrayList<>();       // second moments
    private final List<INDArray> scratch = new ArrayList<>(); // reused for g², the denominator and the update
    private long step;

    public AdamW(List<Parameter> params, double beta1, double beta2, double eps, double weightDecay) {
        check(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), found " + beta1);
        check(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), found " + beta2);
        check(eps >= 0 && Double.isFinite(eps), "eps must be >= 0 and finite, found " + eps);
        check(weightDecay >= 0 && Double.isFinite(weightDecay), "weight_decay must be >= 0, found " + weightDecay);
        Set<String> names = new HashSet<>();
        for (Parameter p : params) {
            DataType dt = p.value().dataType();
            check(dt == DataType.FLOAT || dt == DataType.DOUBLE, "parameter '" + p.name() + "' is " + dt
                    + "; AdamW updates FLOAT or DOUBLE parameters: keep trainable weights in float32");
            check(p.grad().dataType() == dt, "parameter '" + p.name() + "' is " + dt + " but its gradient is "
                    + p.grad().dataType() + "; the gradient buffer must have the parameter's dtype");
            check(names.add(p.name()), "parameter '" + p.name() + "' is given twice; every parameter needs its own"
                    + " name");
            m.add(Nd4j.zeros(dt, p.value().shape()));
            v.add(Nd4j.zeros(dt, p.value().shape()));
            scratch.add(Nd4j.zeros(dt, p.value().shape()));
        }
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** One AdamW step at learning rate {@code lr} with each parameter's current gradient (which is left as it is). */
    public void step(double lr) {
        check(lr >= 0 && Double.isFinite(lr), "learning rate must be >= 0 and finite, found " + lr);
        step++;
        double bias1 = 1 - Math.pow(beta1, step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        double stepSize = lr / bias1;
        for (int i = 0; i < params.size(); i++) {
            INDArray p = params.get(i).value();
            INDArray g = params.get(i).grad();
            if (dense(p) && dense(g)) {
                stepDense(p, g, m.get(i), v.get(i), lr, bias2Sqrt, stepSize);
            } else {
                stepOps(p, g, m.get(i), v.get(i), scratch.get(i), lr, bias2Sqrt, stepSize);
            }
        }
    }

    private static boolean dense(INDArray a) {
        return a.ordering() == 'c' && a.elementWiseStride() == 1;
    }

    /**
     * One pass over a dense parameter in Java: the same operations in the same order as {@link #stepOps}, each
     * rounded to the parameter's dtype as an ND4J op would round it (scalars too), so both paths agree bitwise; a
     * chain of ND4J ops per parameter cost 10–100 µs each (hundreds of LoRA tensors per step).
     */
    private void stepDense(INDArray p, INDArray g, INDArray mi, INDArray vi, double lr, double bias2Sqrt,
                           double stepSize) {
        boolean f32 = p.dataType() == DataType.FLOAT;
        double decay = round(f32, 1 - lr * weightDecay);
        double b1 = round(f32, beta1);
        double c1 = round(f32, 1 - beta1);
        double b2 = round(f32, beta2);
        double c2 = round(f32, 1 - beta2);
        double bias2 = round(f32, bias2Sqrt);
        double e = round(f32, eps);
        double step = round(f32, -stepSize);
        Buf pb = Buf.of(p);
        Buf gb = Buf.of(g);
        Buf mb = Buf.of(mi);
        Buf vb = Buf.of(vi);
        long n = p.length();
        for (long j = 0; j < n; j++) {
            double pj = pb.get(j);
            if (weightDecay != 0) {
                pj = round(f32, pj * decay);                                   // p ← p − lr·wd·p
            }
            double gj = gb.get(j);
            double mj = round(f32, round(f32, mb.get(j) * b1) + round(f32, gj * c1));                  // m
            double vj = round(f32, round(f32, vb.get(j) * b2) + round(f32, round(f32, gj * gj) * c2)); // v
            double denom = round(f32, round(f32, round(f32, Math.sqrt(vj)) / bias2) + e);            // √v̂ + ε
            mb.set(j, mj);
            vb.set(j, vj);
            pb.set(j, round(f32, pj + round(f32, round(f32, mj / denom) * step)));
        }
    }

    private static double round(boolean f32, double x) {
        return f32 ? (float) x : x;
    }

    /** The same update as in-place ND4J ops, for views and other layouts. */
    private void stepOps(INDArray p, INDArray g, INDArray mi, INDArray vi, INDArray s, double lr, double bias2Sqrt,
                         double stepSize) {
        if (weightDecay != 0) {
            p.muli(1 - lr * weightDecay);                 // p ← p − lr·wd·p
        }
        mi.muli(beta1).addi(s.assign(g).muli(1 - beta1));  // m ← β1·m + (1−β1)·g
        vi.muli(beta2).addi(s.assign(g).muli(g).muli(1 - beta2)); // v ← β2·v + (1−β2)·g²
        s.assign(vi);
        Transforms.sqrt(s, false);                         // √v
        s.divi(bias2Sqrt).addi(eps);                       // √v̂ + ε
        s.rdivi(mi).muli(-stepSize);                       // −(lr/(1−β1^t)) · m / (√v̂ + ε)
        p.addi(s);
    }

    /** Optimizer steps taken (torch's {@code state["step"]}). */
    public long stepCount() {
        return step;
    }

    public List<Parameter> params() {
        return params;
    }

    /**
     * Saves the moments and the step count to {@code file} (safetensors, atomically): tensors
     * {@code <name>.exp_avg} and {@code <name>.exp_avg_sq} in the parameter's dtype (F32 or F64), metadata
     * {@code step}, {@code betas} ("β1,β2"), {@code eps}, {@code weight_decay}.
     */
    public void save(Path file) {
        List<MomentsFile.Tensor> tensors = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            String name = params.get(i).name();
            tensors.add(tensor(name + EXP_AVG, m.get(i)));
            tensors.add(tensor(name + EXP_AVG_SQ, v.get(i)));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("step", Long.toString(step));
        meta.put("betas", beta1 + "," + beta2);
        meta.put("eps", Double.toString(eps));
        meta.put("weight_decay", Double.toString(weightDecay));
        meta.put("optimizer", "AdamW");
        MomentsFile.write(file, tensors, meta);
    }

    private static MomentsFile.Tensor tensor(String name, INDArray a) {
        ByteBuffer data = a.dataType() == DataType.DOUBLE ? MomentsFile.doubles(a.data().asDouble())
                : MomentsFile.floats(a.data().asFloat());
        return new MomentsFile.Tensor(name, a.dataType() == DataType.DOUBLE ? DType.F64 : DType.F32, a.shape(), data);
    }

    /**
     * Restores the moments and step count that {@link #save} wrote, bitwise. The file must hold exactly the
     * moments of this optimizer's parameters, with their shapes and dtypes. The hyperparameters in the file's metadata
     * are informational: the ones given to the constructor are used.
     */
    public void load(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Set<String> expected = new TreeSet<>();
            params.forEach(p -> {
                expected.add(p.name() + EXP_AVG);
                expected.add(p.name() + EXP_AVG_SQ);
            });
            Set<String> found = new TreeSet<>(f.names());
            if (!found.equals(expected)) {
                Set<String> missing = new TreeSet<>(expected);
                missing.removeAll(found);
                Set<String> extra = new TreeSet<>(found);
                extra.removeAll(expected);
                throw new IllegalArgumentException("optimizer state " + file + " does not match the trainable"
                        + " parameters: missing " + abbreviate(missing) + "; unexpected " + abbreviate(extra)
                        + ". It was saved for a different adapter (target modules, layers or method); resume with the"
                        + " recipe saved in that checkpoint");
            }
            String stepText = f.metadata().get("step");
            long loadedStep;
            try {
                loadedStep = Long.parseLong(stepText);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("optimizer state " + file + " has metadata step=" + stepText
                        + "; expected a non-negative integer; the file is damaged", e);
            }
            check(loadedStep >= 0, "optimizer state " + file + " has step " + loadedStep + "; expected >= 0");
            List<INDArray> loaded = new ArrayList<>();
            for (int i = 0; i < params.size(); i++) {
                loaded.add(read(f, params.get(i).name() + EXP_AVG, m.get(i)));
                loaded.add(read(f, params.get(i).name() + EXP_AVG_SQ, v.get(i)));
            }
            for (int i = 0; i < params.size(); i++) { // only now that every tensor was checked
                m.get(i).assign(loaded.get(2 * i));
                v.get(i).assign(loaded.get(2 * i + 1));
            }
            step = loadedStep;
        }
    }

    private static INDArray read(SafetensorsFile f, String name, INDArray into) {
        TensorInfo info = f.info(name);
        DType want = into.dataType() == DataType.DOUBLE ? DType.F64 : DType.F32;
        if (!Arrays.equals(info.shape(), into.shape()) || info.dtype() != want) {
            throw new IllegalArgumentException("optimizer state " + f.path() + ": '" + name + "' is " + info.dtype()
                    + Arrays.toString(info.shape()) + " but the parameter is " + want + Arrays.toString(into.shape())
                    + "; the checkpoint was saved for a different adapter (rank or dtype); resume with its recipe");
        }
        ByteBuffer b = f.rawBytes(name).order(ByteOrder.LITTLE_ENDIAN);
        INDArray flat;
        if (want == DType.F64) {
            double[] d = new double[Math.toIntExact(info.numel())];
            b.asDoubleBuffer().get(d);
            flat = Nd4j.createFromArray(d);
        } else {
            float[] d = new float[Math.toIntExact(info.numel())];
            b.asFloatBuffer().get(d);
            flat = Nd4j.createFromArray(d);
        }
        return flat.reshape('c', into.shape());
    }

    private static String abbreviate(Set<String> names) {
        if (names.isEmpty()) {
            return "none";
        }
        return names.size() + " (" + String.join(", ", names.stream().limit(4).toList())
                + (names.size() > 4 ? ", ..." : "") + ")";
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
