package org.lora4j.inference.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Small ND4J helpers kept out of the layer code so that the layers read like the math. */
public final class Tensors {
    private Tensors() {
    }

    /** {@code x} itself when it is a dense c-order array, else a dense copy (gemm needs dense operands). */
    public static INDArray contiguous(INDArray x) {
        return x.isView() || x.ordering() != 'c' ? x.dup('c') : x;
    }

    /** A {@code [rows, cols]} array from a flat float array, in the requested data type. */
    public static INDArray fromFloats(float[] data, DataType dtype, long... shape) {
        INDArray a = Nd4j.create(data, shape, 'c');
        return dtype == DataType.FLOAT ? a : a.castTo(dtype);
    }
}
