package org.lora4j.data.arrow;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Infers an Arrow schema from JSON-like Java values, row by row, the way pyarrow's JSON reader does:
 * strings → string, integers → int64, numbers with a fraction → float64 (integers and floats mixed → float64),
 * booleans → bool, arrays → list&lt;element&gt;, objects → struct&lt;fields in order of first appearance&gt;.
 * A column that is null (or an empty list) everywhere becomes string. Columns are in order of first appearance;
 * a row that lacks a column holds null there. A column holding two kinds (a string here, a number there) is an
 * error naming the row and the column.
 */
final class SchemaInference {
    private enum Kind { NULL, STRING, INT, FLOAT, BOOL, LIST, STRUCT }

    private static final class Node {
        Kind kind = Kind.NULL;
        Node element;                      // LIST
        Map<String, Node> fields;          // STRUCT
    }

    private final Map<String, Node> columns = new LinkedHashMap<>();
    private long rows;

    /** Adds one row; {@code where} names it for errors, e.g. {@code "data.jsonl line 12"}. */
    void add(Map<String, ?> row, String where) {
        for (Map.Entry<String, ?> e : row.entrySet()) {
            merge(columns.computeIfAbsent(e.getKey(), k -> new Node()), e.getValue(), e.getKey(), where);
        }
        rows++;
    }

    long rows() {
        return rows;
    }

    Schema schema() {
        List<Field> fields = new ArrayList<>();
        columns.forEach((name, node) -> fields.add(field(name, node)));
        return new Schema(fields);
    }

    private static void merge(Node node, Object value, String path, String where) {
        Kind kind = kindOf(value, path, where);
        if (kind == Kind.NULL) {
            return;
        }
        if (node.kind == Kind.NULL) {
            node.kind = kind;
        } else if (node.kind != kind) {
            if ((node.kind == Kind.INT && kind == Kind.FLOAT) || (node.kind == Kind.FLOAT && kind == Kind.INT)) {
                node.kind = Kind.FLOAT;
            } else {
                throw new DatasetException(where + ": '" + path + "' is " + words(kind) + " here but "
                        + words(node.kind) + " in earlier rows; every row must hold the same type in a column "
                        + "(fix the data, e.g. quote the numbers, or drop the column)");
            }
        }
        if (kind == Kind.LIST) {
            if (node.element == null) {
                node.element = new Node();
            }
            for (Object item : (List<?>) value) {
                merge(node.element, item, path + "[]", where);
            }
        } else if (kind == Kind.STRUCT) {
            if (node.fields == null) {
                node.fields = new LinkedHashMap<>();
            }
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                String key = String.valueOf(e.getKey());
                merge(node.fields.computeIfAbsent(key, k -> new Node()), e.getValue(), path + "." + key, where);
            }
        }
    }

    private static Kind kindOf(Object v, String path, String where) {
        if (v == null) {
            return Kind.NULL;
        }
        if (v instanceof String) {
            return Kind.STRING;
        }
        if (v instanceof Boolean) {
            return Kind.BOOL;
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return Kind.INT;
        }
        if (v instanceof BigInteger) {
            if (((BigInteger) v).bitLength() < 64) {
                return Kind.INT;
            }
            throw new DatasetException(where + ": '" + path + "' holds the integer " + v
                    + ", which does not fit in int64; store it as a string");
        }
        if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
            return Kind.FLOAT;
        }
        if (v instanceof List) {
            return Kind.LIST;
        }
        if (v instanceof Map) {
            return Kind.STRUCT;
        }
        throw new DatasetException(where + ": '" + path + "' holds a " + v.getClass().getSimpleName()
                + "; expected a JSON value (string, number, bool, array, object or null)");
    }

    private static String words(Kind k) {
        switch (k) {
            case STRING: return "a string";
            case INT: return "an integer";
            case FLOAT: return "a number";
            case BOOL: return "a bool";
            case LIST: return "a list";
            case STRUCT: return "an object";
            default: return "null";
        }
    }

    private static Field field(String name, Node node) {
        switch (node.kind) {
            case INT: return leaf(name, new ArrowType.Int(64, true));
            case FLOAT: return leaf(name, new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE));
            case BOOL: return leaf(name, ArrowType.Bool.INSTANCE);
            case LIST:
                return new Field(name, FieldType.nullable(ArrowType.List.INSTANCE), List.of(field("item", node.element)));
            case STRUCT: {
                List<Field> children = new ArrayList<>();
                node.fields.forEach((k, v) -> children.add(field(k, v)));
                return new Field(name, FieldType.nullable(ArrowType.Struct.INSTANCE), children);
            }
            default: return leaf(name, ArrowType.Utf8.INSTANCE); // STRING, and NULL: nothing known, string is safest
        }
    }

    private static Field leaf(String name, ArrowType type) {
        return new Field(name, FieldType.nullable(type), null);
    }

    /**
     * The value as the reader would return it from a column of type {@code field}: integers in a float column
     * become Double, every struct holds all its fields (absent ones null). Inputs passed {@link #add} first.
     */
    static Object conform(Object value, Field field) {
        if (value == null) {
            return null;
        }
        switch (field.getType().getTypeID()) {
            case Int: return ((Number) value).longValue();
            case FloatingPoint: return ((Number) value).doubleValue();
            case List: {
                Field element = field.getChildren().get(0);
                List<?> in = (List<?>) value;
                List<Object> out = new ArrayList<>(in.size());
                for (Object item : in) {
                    out.add(conform(item, element));
                }
                return out;
            }
            case Struct: {
                Map<?, ?> in = (Map<?, ?>) value;
                Map<String, Object> out = new LinkedHashMap<>();
                for (Field child : field.getChildren()) {
                    out.put(child.getName(), conform(in.get(child.getName()), child));
                }
                return out;
            }
            default: return value;
        }
    }

    /** A whole row conformed to {@code schema}: every column present, in schema order. */
    static Map<String, Object> conformRow(Map<String, ?> row, Schema schema) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Field f : schema.getFields()) {
            out.put(f.getName(), conform(row.get(f.getName()), f));
        }
        return out;
    }
}
