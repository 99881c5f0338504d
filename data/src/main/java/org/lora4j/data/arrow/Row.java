package org.lora4j.data.arrow;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * One row of a dataset, its values copied out of the file: String, Long (every integer type), Double (every
 * float type), Boolean, byte[] (binary), List&lt;Object&gt;, Map&lt;String, Object&gt; (struct), or null.
 * Every column of the dataset is present in {@code values}, in column order.
 *
 * @param index the row's position in the dataset (0-based, storage order), also in a shuffled read
 */
public record Row(long index, Map<String, Object> values) {

    public Row {
        values = Collections.unmodifiableMap(values);
    }

    /** Whether the dataset has this column. */
    public boolean has(String column) {
        return values.containsKey(column);
    }

    /** The raw value (null for a null value); an unknown column is an error naming the columns there are. */
    public Object get(String column) {
        Object v = values.get(column);
        if (v == null && !values.containsKey(column)) {
            throw new DatasetException("row " + index + ": no column '" + column + "'; columns: "
                    + String.join(", ", values.keySet()));
        }
        return v;
    }

    /** A string column's value, or null. */
    public String string(String column) {
        return as(column, String.class, "a string");
    }

    /** A scalar as text: strings as they are, numbers and bools as Java prints them; null stays null. */
    public String text(String column) {
        Object v = get(column);
        if (v == null || v instanceof String) {
            return (String) v;
        }
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        throw wrongType(column, "a string, number or bool", v);
    }

    /** An integer column's value, or null. */
    public Long integer(String column) {
        return as(column, Long.class, "an integer");
    }

    /** A number column's value (integers converted), or null. */
    public Double number(String column) {
        Object v = get(column);
        if (v == null || v instanceof Number) {
            return v == null ? null : ((Number) v).doubleValue();
        }
        throw wrongType(column, "a number", v);
    }

    /** A bool column's value, or null. */
    public Boolean bool(String column) {
        return as(column, Boolean.class, "a bool");
    }

    /** A list column's value, or null. */
    @SuppressWarnings("unchecked")
    public List<Object> list(String column) {
        return as(column, List.class, "a list");
    }

    /** A struct column's value (field name → value), or null. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> struct(String column) {
        return as(column, Map.class, "a struct");
    }

    /** A list-of-structs column's value, e.g. chat {@code messages}, or null. */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> structList(String column) {
        List<Object> list = list(column);
        if (list != null) {
            for (Object item : list) {
                if (item != null && !(item instanceof Map)) {
                    throw wrongType(column, "a list of structs", item);
                }
            }
        }
        return (List<Map<String, Object>>) (List<?>) list;
    }

    /** A list-of-integers column's value as int[], or null; null elements and values outside int are errors. */
    public int[] intArray(String column) {
        List<Object> list = list(column);
        if (list == null) {
            return null;
        }
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            Object item = list.get(i);
            if (!(item instanceof Long) || (Long) item != ((Long) item).intValue()) {
                throw wrongType(column + "[" + i + "]", "an int32 value", item);
            }
            out[i] = ((Long) item).intValue();
        }
        return out;
    }

    private <T> T as(String column, Class<T> type, String expected) {
        Object v = get(column);
        if (v == null || type.isInstance(v)) {
            return type.cast(v);
        }
        throw wrongType(column, expected, v);
    }

    private DatasetException wrongType(String column, String expected, Object found) {
        String kind = found == null ? "null" : found.getClass().getSimpleName();
        return new DatasetException("row " + index + ", column '" + column + "': expected " + expected
                + ", found " + kind + " " + VectorFill.abbreviate(String.valueOf(found))
                + "; check the column's type with Dataset.describeSchema()");
    }
}
