package org.lora4j.data.arrow;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.BaseLargeVariableWidthVector;
import org.apache.arrow.vector.BaseVariableWidthVector;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.LargeVarBinaryVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.NullVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.LargeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.StructVector;

/**
 * Writes plain Java values (the ones {@link VectorValues} produces) into Arrow vectors, growing them as needed.
 * A value that does not fit its column throws {@link Mismatch} carrying the path inside the value
 * ({@code messages[2].role}); the caller adds file and row.
 */
final class VectorFill {
    private VectorFill() {}

    /** A value of the wrong kind or out of range; {@code path} is relative to the column. */
    static final class Mismatch extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String path;
        final String problem;

        Mismatch(String path, String problem) {
            super(path + ": " + problem, null, false, false);
            this.path = path;
            this.problem = problem;
        }

        Mismatch under(String prefix) {
            return new Mismatch(prefix + path, problem);
        }
    }

    static void write(ValueVector v, int index, Object value) {
        if (v instanceof NullVector) { // holds only nulls, and no buffers
            if (value != null) {
                throw mismatch(v, value);
            }
            return;
        }
        if (value == null) {
            setNull(v, index);
            return;
        }
        if (v instanceof VarCharVector) {
            ((VarCharVector) v).setSafe(index, string(v, value).getBytes(StandardCharsets.UTF_8));
        } else if (v instanceof LargeVarCharVector) {
            ((LargeVarCharVector) v).setSafe(index, string(v, value).getBytes(StandardCharsets.UTF_8));
        } else if (v instanceof BigIntVector) {
            ((BigIntVector) v).setSafe(index, integer(v, value, Long.MIN_VALUE, Long.MAX_VALUE));
        } else if (v instanceof IntVector) {
            ((IntVector) v).setSafe(index, (int) integer(v, value, Integer.MIN_VALUE, Integer.MAX_VALUE));
        } else if (v instanceof SmallIntVector) {
            ((SmallIntVector) v).setSafe(index, (short) integer(v, value, Short.MIN_VALUE, Short.MAX_VALUE));
        } else if (v instanceof TinyIntVector) {
            ((TinyIntVector) v).setSafe(index, (byte) integer(v, value, Byte.MIN_VALUE, Byte.MAX_VALUE));
        } else if (v instanceof BaseIntVector) { // unsigned
            int bits = ((org.apache.arrow.vector.types.pojo.ArrowType.Int) v.getField().getType()).getBitWidth();
            long max = bits == 64 ? Long.MAX_VALUE : (1L << bits) - 1;
            long x = integer(v, value, 0, max);
            grow(v, index);
            ((BaseIntVector) v).setWithPossibleTruncate(index, x);
        } else if (v instanceof Float8Vector) {
            ((Float8Vector) v).setSafe(index, number(v, value));
        } else if (v instanceof Float4Vector) {
            ((Float4Vector) v).setSafe(index, (float) number(v, value));
        } else if (v instanceof BitVector) {
            if (!(value instanceof Boolean)) {
                throw mismatch(v, value);
            }
            ((BitVector) v).setSafe(index, (Boolean) value ? 1 : 0);
        } else if (v instanceof VarBinaryVector) {
            ((VarBinaryVector) v).setSafe(index, bytes(v, value));
        } else if (v instanceof LargeVarBinaryVector) {
            ((LargeVarBinaryVector) v).setSafe(index, bytes(v, value));
        } else if (v instanceof ListVector) {
            ListVector list = (ListVector) v;
            List<?> items = list(v, value);
            int start = list.startNewValue(index);
            writeItems(list.getDataVector(), start, items);
            list.endValue(index, items.size());
        } else if (v instanceof LargeListVector) {
            LargeListVector list = (LargeListVector) v;
            List<?> items = list(v, value);
            long start = list.startNewValue(index);
            writeItems(list.getDataVector(), Math.toIntExact(start), items);
            list.endValue(index, items.size());
        } else if (v instanceof FixedSizeListVector) {
            FixedSizeListVector list = (FixedSizeListVector) v;
            List<?> items = list(v, value);
            if (items.size() != list.getListSize()) {
                throw new Mismatch("", "expected exactly " + list.getListSize() + " items, found " + items.size());
            }
            grow(v, index);
            list.setNotNull(index);
            writeItems(list.getDataVector(), index * list.getListSize(), items);
        } else if (v instanceof StructVector) {
            writeStruct((StructVector) v, index, value);
        } else {
            throw new Mismatch("", "lora4j cannot write columns of type " + ArrowTypes.describe(v.getField()));
        }
    }

    private static void writeItems(FieldVector data, int start, List<?> items) {
        for (int j = 0; j < items.size(); j++) {
            try {
                write(data, start + j, items.get(j));
            } catch (Mismatch m) {
                throw m.under("[" + j + "]");
            }
        }
    }

    private static void writeStruct(StructVector struct, int index, Object value) {
        if (!(value instanceof Map)) {
            throw mismatch(struct, value);
        }
        Map<?, ?> map = (Map<?, ?>) value;
        for (Object key : map.keySet()) {
            if (struct.getChild(String.valueOf(key)) == null) {
                throw new Mismatch("", "has key '" + key + "', which is not a field of " + ArrowTypes.describe(struct.getField()));
            }
        }
        grow(struct, index);
        struct.setIndexDefined(index);
        for (FieldVector child : struct.getChildrenFromFields()) {
            try {
                write(child, index, map.get(child.getName()));
            } catch (Mismatch m) {
                throw m.under("." + child.getName());
            }
        }
    }

    private static void setNull(ValueVector v, int index) {
        if (!v.getField().isNullable()) {
            throw new Mismatch("", "is null but the column is declared non-nullable");
        }
        grow(v, index);
        if (v instanceof BaseFixedWidthVector) {
            ((BaseFixedWidthVector) v).setNull(index);
        } else if (v instanceof BaseVariableWidthVector) {
            ((BaseVariableWidthVector) v).setNull(index);
        } else if (v instanceof BaseLargeVariableWidthVector) {
            ((BaseLargeVariableWidthVector) v).setNull(index);
        } else if (v instanceof ListVector) {
            ((ListVector) v).setNull(index);
        } else if (v instanceof LargeListVector) {
            ((LargeListVector) v).setNull(index);
        } else if (v instanceof FixedSizeListVector) {
            ((FixedSizeListVector) v).setNull(index);
        } else if (v instanceof StructVector) {
            ((StructVector) v).setNull(index);
        } else {
            throw new Mismatch("", "lora4j cannot write columns of type " + ArrowTypes.describe(v.getField()));
        }
    }

    /** Makes room for {@code index} in vectors whose setters do not grow the buffers themselves. */
    private static void grow(ValueVector v, int index) {
        while (index >= v.getValueCapacity()) {
            v.reAlloc();
        }
    }

    private static String string(ValueVector v, Object value) {
        if (!(value instanceof String)) {
            throw mismatch(v, value);
        }
        return (String) value;
    }

    private static long integer(ValueVector v, Object value, long min, long max) {
        long x;
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            x = ((Number) value).longValue();
        } else if (value instanceof BigInteger && ((BigInteger) value).bitLength() < 64) {
            x = ((BigInteger) value).longValue();
        } else {
            throw mismatch(v, value);
        }
        if (x < min || x > max) {
            throw new Mismatch("", "value " + value + " does not fit in " + ArrowTypes.describe(v.getField()));
        }
        return x;
    }

    private static double number(ValueVector v, Object value) {
        if (!(value instanceof Number)) {
            throw mismatch(v, value);
        }
        return ((Number) value).doubleValue();
    }

    private static byte[] bytes(ValueVector v, Object value) {
        if (!(value instanceof byte[])) {
            throw mismatch(v, value);
        }
        return (byte[]) value;
    }

    private static List<?> list(ValueVector v, Object value) {
        if (value instanceof List) {
            return (List<?>) value;
        }
        if (value instanceof int[]) {
            return java.util.Arrays.stream((int[]) value).boxed().toList();
        }
        if (value instanceof long[]) {
            return java.util.Arrays.stream((long[]) value).boxed().toList();
        }
        throw mismatch(v, value);
    }

    private static Mismatch mismatch(ValueVector v, Object value) {
        String shown = value instanceof String ? "\"" + abbreviate((String) value) + "\"" : abbreviate(String.valueOf(value));
        return new Mismatch("", "expected " + ArrowTypes.describe(v.getField()) + ", found "
                + value.getClass().getSimpleName() + " " + shown);
    }

    static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
