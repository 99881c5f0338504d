package org.lora4j.data.arrow;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.FloatingPointVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.LargeVarBinaryVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.NullVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.LargeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.util.Text;

/**
 * Copies one value out of an Arrow vector into plain Java values that outlive the record batch:
 * String, Long (every integer type), Double (every float type, decimals), Boolean, byte[] (binaries),
 * List&lt;Object&gt; (list, large_list, fixed_size_list, map as a list of {key, value} structs),
 * Map&lt;String, Object&gt; (struct, in field order), null. Dates, times and timestamps become their ISO text.
 */
final class VectorValues {
    private VectorValues() {}

    /** The value at {@code index}; dictionary-encoded vectors are decoded through {@code dictionaries}. */
    static Object read(ValueVector v, int index, DictionaryProvider dictionaries) {
        if (v.isNull(index)) {
            return null;
        }
        DictionaryEncoding encoding = v.getField().getDictionary();
        if (encoding != null) {
            long code = ((BaseIntVector) v).getValueAsLong(index);
            Dictionary dictionary = dictionaries == null ? null : dictionaries.lookup(encoding.getId());
            if (dictionary == null) {
                throw new DatasetException("column '" + v.getField().getName() + "' is dictionary-encoded (id "
                        + encoding.getId() + ") but the file holds no such dictionary");
            }
            FieldVector values = dictionary.getVector();
            if (code < 0 || code >= values.getValueCount()) {
                throw new DatasetException("column '" + v.getField().getName() + "' has dictionary index " + code
                        + " but its dictionary holds " + values.getValueCount() + " values: the file is corrupt");
            }
            return read(values, (int) code, dictionaries);
        }
        if (v instanceof VarCharVector) {
            return new String(((VarCharVector) v).get(index), StandardCharsets.UTF_8);
        }
        if (v instanceof LargeVarCharVector) {
            return new String(((LargeVarCharVector) v).get(index), StandardCharsets.UTF_8);
        }
        if (v instanceof BaseIntVector) {
            return ((BaseIntVector) v).getValueAsLong(index);
        }
        if (v instanceof FloatingPointVector) {
            return ((FloatingPointVector) v).getValueAsDouble(index);
        }
        if (v instanceof BitVector) {
            return ((BitVector) v).get(index) != 0;
        }
        if (v instanceof ListVector) { // MapVector too: a list of {key, value} structs
            ListVector list = (ListVector) v;
            return slice(list.getDataVector(), list.getElementStartIndex(index), list.getElementEndIndex(index), dictionaries);
        }
        if (v instanceof LargeListVector) {
            LargeListVector list = (LargeListVector) v;
            long start = list.getElementStartIndex(index);
            long end = list.getElementEndIndex(index);
            if (end > Integer.MAX_VALUE) {
                throw new DatasetException("column '" + v.getField().getName() + "' row " + index
                        + " has list elements past index 2^31, which one JVM array cannot address");
            }
            return slice(list.getDataVector(), (int) start, (int) end, dictionaries);
        }
        if (v instanceof FixedSizeListVector) {
            FixedSizeListVector list = (FixedSizeListVector) v;
            int n = list.getListSize();
            return slice(list.getDataVector(), index * n, index * n + n, dictionaries);
        }
        if (v instanceof StructVector) {
            StructVector struct = (StructVector) v;
            Map<String, Object> out = new LinkedHashMap<>();
            for (FieldVector child : struct.getChildrenFromFields()) {
                out.put(child.getName(), read(child, index, dictionaries));
            }
            return out;
        }
        if (v instanceof VarBinaryVector) {
            return ((VarBinaryVector) v).get(index);
        }
        if (v instanceof LargeVarBinaryVector) {
            return ((LargeVarBinaryVector) v).get(index);
        }
        if (v instanceof FixedSizeBinaryVector) {
            return ((FixedSizeBinaryVector) v).get(index);
        }
        if (v instanceof NullVector) {
            return null;
        }
        Object o = v.getObject(index);
        if (o instanceof BigDecimal) {
            return ((BigDecimal) o).doubleValue();
        }
        if (o instanceof Text) {
            return o.toString();
        }
        return o == null ? null : o.toString();
    }

    private static List<Object> slice(ValueVector data, int start, int end, DictionaryProvider dictionaries) {
        List<Object> out = new ArrayList<>(end - start);
        for (int i = start; i < end; i++) {
            out.add(read(data, i, dictionaries));
        }
        return out;
    }

    /**
     * A list-of-integers value as int[] without boxing (the tokenized-cache hot path); null for a null row.
     * {@code what} names the column for the error when a value does not fit in an int.
     */
    static int[] intList(ValueVector v, int index, String what) {
        if (v.isNull(index)) {
            return null;
        }
        int start;
        int end;
        ValueVector data;
        if (v instanceof ListVector) {
            ListVector list = (ListVector) v;
            start = list.getElementStartIndex(index);
            end = list.getElementEndIndex(index);
            data = list.getDataVector();
        } else if (v instanceof LargeListVector) {
            LargeListVector list = (LargeListVector) v;
            start = Math.toIntExact(list.getElementStartIndex(index));
            end = Math.toIntExact(list.getElementEndIndex(index));
            data = list.getDataVector();
        } else {
            throw new DatasetException(what + " is " + ArrowTypes.describe(v.getField()) + ", expected list<int32>");
        }
        int[] out = new int[end - start];
        if (data instanceof IntVector && data.getNullCount() == 0) {
            IntVector ints = (IntVector) data;
            for (int i = start; i < end; i++) {
                out[i - start] = ints.get(i);
            }
            return out;
        }
        BaseIntVector ints = (BaseIntVector) data;
        for (int i = start; i < end; i++) {
            if (ints.isNull(i)) {
                throw new DatasetException(what + " row " + index + " holds a null element; token ids cannot be null");
            }
            long x = ints.getValueAsLong(i);
            if (x != (int) x) {
                throw new DatasetException(what + " row " + index + " holds " + x + ", which does not fit in an int32 token id");
            }
            out[i - start] = (int) x;
        }
        return out;
    }
}
