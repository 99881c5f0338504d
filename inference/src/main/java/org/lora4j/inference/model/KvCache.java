package org.lora4j.inference.model;

import org.lora4j.inference.config.ModelConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Run state of incremental decoding: per layer, the keys (after RoPE) and values of every slot so far,
 * each {@code [B, nKV, capacity, hd]}. Belongs to one generation run, never to the model.
 */
public final class KvCache {
    private final INDArray[] keys;
    private final INDArray[] values;
    private final int capacity;
    private int length;

    public KvCache(ModelConfig c, int batch, int capacity, DataType dtype) {
        this.capacity = capacity;
        keys = new INDArray[c.numHiddenLayers()];
        values = new INDArray[c.numHiddenLayers()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = Nd4j.zeros(dtype, batch, c.numKeyValueHeads(), capacity, c.headDim());
            values[i] = Nd4j.zeros(dtype, batch, c.numKeyValueHeads(), capacity, c.headDim());
        }
    }

    /** Slots already filled; the next forward writes from here. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** Rows of the batch. */
    public int batch() {
        return (int) keys[0].size(0);
    }

    /** The whole key store of {@code layer}, {@code [B, nKV, capacity, hd]} (slots past {@link #length()} unused). */
    public INDArray keyStore(int layer) {
        return keys[layer];
    }

    /** The whole value store of {@code layer}, {@code [B, nKV, capacity, hd]}. */
    public INDArray valueStore(int layer) {
        return values[layer];
    }

    /**
     * Writes the rotated keys and the values of T new tokens, {@code k, v [B·T, nKV·hd]} in the projections'
     * layout, at slots {@code [length, length+T)} of {@code layer}.
     */
    void writeRows(int layer, INDArray k, INDArray v, int batch, int t) {
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache holds " + capacity + " slots; " + length + " used, " + t
                    + " more requested (raise the cache capacity or lower max_new_tokens)");
        }
        int nKv = (int) keys[layer].size(1);
        int hd = (int) keys[layer].size(3);
        Buf ks = Buf.of(Tensors.contiguous(k));
        Buf vs = Buf.of(Tensors.contiguous(v));
        Buf kd = Buf.of(keys[layer]);
        Buf vd = Buf.of(values[layer]);
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < t; i++) {
                for (int g = 0; g < nKv; g++) {
                    long src = ((long) (b * t + i) * nKv + g) * hd;
                    long dst = ((long) (b * nKv + g) * capacity + length + i) * hd;
                    for (int j = 0; j < hd; j++) {
                        kd.set(dst + j, ks.get(src + j));
                        vd.set(dst + j, vs.get(src + j));
                    }
                }
            }
        }
    }

    /** Marks {@code t} more slots as filled (after every layer has written them). */
    public void advance(int t) {
        length += t;
    }
}
