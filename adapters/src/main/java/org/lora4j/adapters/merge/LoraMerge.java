package org.lora4j.adapters.merge;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.lora4j.adapters.lora.LinearModules;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.lora.LoraWeights;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.adapters.safetensors.Checkpoint;
import org.lora4j.adapters.safetensors.CheckpointException;
import org.lora4j.adapters.safetensors.DType;
import org.lora4j.adapters.safetensors.Float16;
import org.lora4j.adapters.safetensors.SafetensorsWriter;
import org.lora4j.adapters.safetensors.TensorInfo;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Folding a LoRA adapter into its base weights, W' = W + s·B·A (LoRA, Hu et al. 2021, section 4.1: "no additional
 * inference latency"), and back, W = W' − s·B·A; and writing a merged Hugging Face model folder, as PEFT's
 * {@code merge_and_unload()} followed by {@code save_pretrained} (huggingface/peft).
 */
public final class LoraMerge {

    private LoraMerge() {
    }

    /** W += s·B·A in place; {@code weight} is the base's [out, in]. */
    public static void mergeInto(INDArray weight, LoraWeights l) {
        addScaledProduct(weight, l, l.scale());
    }

    /** W −= s·B·A in place: undoes {@link #mergeInto} up to rounding. */
    public static void unmergeFrom(INDArray weight, LoraWeights l) {
        addScaledProduct(weight, l, -l.scale());
    }

    private static void addScaledProduct(INDArray weight, LoraWeights l, double s) {
        if (weight.rank() != 2 || weight.size(0) != l.outFeatures() || weight.size(1) != l.inFeatures()) {
            throw new IllegalArgumentException(l.module() + ": base weight is " + Arrays.toString(weight.shape())
                    + " but the LoRA pair expects [out=" + l.outFeatures() + ", in=" + l.inFeatures() + "] (lora_B"
                    + " [out, r] · lora_A [r, in]); the adapter belongs to another base model");
        }
        DataType t = weight.dataType();
        if ((t == DataType.FLOAT || t == DataType.DOUBLE) && weight.ordering() == 'c' && !weight.isView()) {
            Nd4j.gemm(dense(l.b(), t), dense(l.a(), t), weight, false, false, s, 1.0); // W += s·[out, r]·[r, in]
        } else {
            // low precision or a view: the product in FP32, then one rounding when it is added to W
            INDArray delta = dense(l.b(), DataType.FLOAT).mmul(dense(l.a(), DataType.FLOAT)).muli(s); // [out, in]
            weight.addi(t == DataType.FLOAT ? delta : delta.castTo(t));
        }
    }

    /** x as a contiguous row-major array of dtype t (x itself when it already is one). */
    private static INDArray dense(INDArray x, DataType t) {
        INDArray y = x.dataType() == t ? x : x.castTo(t);
        return y.isView() || y.ordering() != 'c' ? y.dup('c') : y;
    }

    /**
     * Writes a complete HF model folder at {@code outDir}: every non-weight file of {@code baseDir} (config.json,
     * tokenizer files, generation_config.json, ...), and all tensors of the base with each adapted module's weight
     * replaced by W + s·B·A (computed in FP32, stored in the tensor's original dtype), sharded as
     * {@link SafetensorsWriter#writeSharded} does with {@code maxShardBytes}.
     * <p>
     * Nothing is ever half-written at {@code outDir}: the adapter must fit the base
     * ({@link PeftAdapterFiles#checkFits}), its A and B must be finite, and the folder is built in a hidden sibling
     * folder that is renamed onto {@code outDir} only once every merged tensor has been checked finite in its stored
     * dtype.
     *
     * @param overwrite allow replacing an existing, non-empty {@code outDir}
     * @param progress  called as (tensors written so far, total) after each tensor; may be null
     */
    public static void mergeModelFolder(Path baseDir, LoraAdapter adapter, Path outDir, long maxShardBytes,
                                        boolean overwrite, BiConsumer<Integer, Integer> progress) {
        MergeOutput.checkTarget(baseDir, outDir, overwrite);
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes is " + maxShardBytes + "; expected a positive byte"
                    + " count, e.g. 5000000000 (5 GB, the Hugging Face default)");
        }
        try (Checkpoint ckpt = Checkpoint.open(baseDir)) {
            Map<String, int[]> linears = LinearModules.linearShapes(ckpt);
            PeftAdapterFiles.checkFits(adapter, linears, baseDir.toString());
            adapter.modules().forEach(LoraMerge::checkFinite);
            List<SafetensorsWriter.Tensor> tensors = tensors(ckpt, adapter, progress);
            MergeOutput.build(baseDir, outDir, overwrite, tmp -> SafetensorsWriter.writeSharded(tmp, tensors,
                    Map.of("format", "pt"), maxShardBytes));
        }
    }

    /** Every tensor of the base, in checkpoint order, each adapted weight replaced by a lazily merged one. */
    private static List<SafetensorsWriter.Tensor> tensors(Checkpoint ckpt, LoraAdapter adapter,
                                                          BiConsumer<Integer, Integer> progress) {
        List<SafetensorsWriter.Tensor> out = new ArrayList<>();
        int total = ckpt.names().size();
        AtomicInteger done = new AtomicInteger();
        for (String name : ckpt.names()) {
            TensorInfo info = ckpt.info(name);
            if (info.dtype() != DType.F32 && info.dtype() != DType.F16 && info.dtype() != DType.BF16) {
                throw new CheckpointException("tensor '" + name + "' of " + ckpt.dir() + " is " + info.dtype()
                        + "; merging writes F32, F16 and BF16 tensors only; convert the base checkpoint to one of"
                        + " those first");
            }
            LoraWeights l = name.endsWith(".weight")
                    ? adapter.get(name.substring(0, name.length() - ".weight".length())) : null;
            out.add(new SafetensorsWriter.Tensor(name, info.dtype(), info.shape(), () -> {
                float[] v = l == null ? ckpt.readFloat32(name) : merged(ckpt, name, info, l);
                if (progress != null) {
                    progress.accept(done.incrementAndGet(), total);
                }
                return v;
            }));
        }
        return out;
    }

    /** W + s·B·A in FP32, checked finite after rounding to the tensor's dtype. */
    private static float[] merged(Checkpoint ckpt, String name, TensorInfo info, LoraWeights l) {
        float[] w = ckpt.readFloat32(name);
        INDArray wm = Nd4j.create(w, new long[] {l.outFeatures(), l.inFeatures()}, 'c'); // [out, in] FP32
        float[] v;
        try {
            Nd4j.gemm(dense(l.b(), DataType.FLOAT), dense(l.a(), DataType.FLOAT), wm, false, false, l.scale(), 1.0);
            v = wm.data().asFloat();
        } finally {
            wm.close(); // native memory is freed only on GC otherwise; merged tensors can be hundreds of MB
        }
        int bad = 0;
        int first = -1;
        for (int i = 0; i < v.length; i++) {
            if (!finiteIn(info.dtype(), v[i])) {
                bad++;
                first = first < 0 ? i : first;
            }
        }
        if (bad > 0) {
            int in = l.inFeatures();
            boolean baseBad = !finiteIn(info.dtype(), w[first]);
            throw new NonFiniteMerge("merged tensor '" + name + "' has " + bad + " of " + v.length + " values that"
                    + " are NaN or overflow " + info.dtype() + " (first at [" + first / in + ", " + first % in
                    + "]: W=" + w[first] + ", W + s·B·A=" + v[first] + ", s=" + l.scale() + "); " + (baseBad
                    ? "the base weight itself is not finite there: check the base checkpoint"
                    : "the adapter's update is too large: the training likely diverged; use an earlier checkpoint"
                    + " of the adapter"));
        }
        return v;
    }

    /** True when v stays finite once stored as {@code dtype} (F16 overflows above 65504). */
    private static boolean finiteIn(DType dtype, float v) {
        if (!Float.isFinite(v)) {
            return false;
        }
        return switch (dtype) {
            case F16 -> (Float16.floatToHalf(v) & 0x7C00) != 0x7C00;
            case BF16 -> (Float16.floatToBf16(v) & 0x7F80) != 0x7F80;
            default -> true;
        };
    }

    /** Refuses an adapter whose A or B holds NaN or ±Inf, before anything is read or written. */
    private static void checkFinite(LoraWeights l) {
        for (String which : new String[] {"lora_A", "lora_B"}) {
            INDArray x = which.equals("lora_A") ? l.a() : l.b();
            float[] v = dense(x, DataType.FLOAT).dup('c').data().asFloat();
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    long cols = x.size(1);
                    throw new CheckpointException(l.module() + "." + which + " holds " + v[i] + " at [" + i / cols
                            + ", " + i % cols + "]; a merged model would be broken, so nothing was written; the"
                            + " training likely diverged: use an earlier checkpoint of the adapter");
                }
            }
        }
    }

    /** Raised inside a tensor supplier; {@link MergeOutput} turns it into a {@link CheckpointException}. */
    static final class NonFiniteMerge extends RuntimeException {
        NonFiniteMerge(String message) {
            super(message);
        }
    }
}
