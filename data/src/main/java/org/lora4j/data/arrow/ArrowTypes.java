package org.lora4j.data.arrow;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Arrow schema helpers: the type names lora4j prints (pyarrow's spelling: {@code string}, {@code int64},
 * {@code list<struct<role: string, content: string>>}), which types the reader understands, and the
 * dictionary-free form of a schema that the writer produces.
 */
final class ArrowTypes {
    private ArrowTypes() {}

    /** {@code "messages: list<struct<role: string, content: string>>"}, one line per column. */
    static String describe(Schema schema) {
        return schema.getFields().stream().map(f -> f.getName() + ": " + describe(f)).collect(Collectors.joining("\n"));
    }

    /** The type of one column, e.g. {@code list<int32>}; a dictionary-encoded column reads {@code dictionary<string>}. */
    static String describe(Field field) {
        String value = describeValue(field);
        return field.getDictionary() == null ? value : "dictionary<" + value + ">";
    }

    private static String describeValue(Field field) {
        ArrowType type = field.getType();
        List<Field> children = field.getChildren();
        switch (type.getTypeID()) {
            case Utf8: return "string";
            case LargeUtf8: return "large_string";
            case Utf8View: return "string_view";
            case Binary: return "binary";
            case LargeBinary: return "large_binary";
            case FixedSizeBinary: return "fixed_size_binary[" + ((ArrowType.FixedSizeBinary) type).getByteWidth() + "]";
            case Bool: return "bool";
            case Null: return "null";
            case Int: {
                ArrowType.Int i = (ArrowType.Int) type;
                return (i.getIsSigned() ? "int" : "uint") + i.getBitWidth();
            }
            case FloatingPoint: {
                FloatingPointPrecision p = ((ArrowType.FloatingPoint) type).getPrecision();
                return p == FloatingPointPrecision.HALF ? "float16" : p == FloatingPointPrecision.SINGLE ? "float32" : "float64";
            }
            case List: return "list<" + describe(children.get(0)) + ">";
            case LargeList: return "large_list<" + describe(children.get(0)) + ">";
            case FixedSizeList:
                return "fixed_size_list<" + describe(children.get(0)) + ">[" + ((ArrowType.FixedSizeList) type).getListSize() + "]";
            case Struct:
                return "struct<" + children.stream().map(c -> c.getName() + ": " + describe(c)).collect(Collectors.joining(", ")) + ">";
            case Map: {
                List<Field> kv = children.get(0).getChildren();
                return "map<" + describe(kv.get(0)) + ", " + describe(kv.get(1)) + ">";
            }
            default: return type.toString().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * Null when lora4j can read every value of the field, else the first unreadable type found.
     * Readable: strings, integers, floats, bools, binaries, lists, structs, maps, null, decimals (as double),
     * dates/times/timestamps/durations (as their ISO text), dictionary-encoded forms of these.
     */
    static String unreadableType(Field field) {
        switch (field.getType().getTypeID()) {
            case Union: case ListView: case LargeListView: case RunEndEncoded: case NONE:
                return describe(field);
            default:
                for (Field child : field.getChildren()) {
                    String bad = unreadableType(child);
                    if (bad != null) {
                        return bad;
                    }
                }
                return null;
        }
    }

    /** The same columns without dictionary encoding (value types kept) and without schema metadata. */
    static Schema plain(Schema schema) {
        List<Field> fields = new ArrayList<>();
        for (Field f : schema.getFields()) {
            fields.add(plain(f));
        }
        return new Schema(fields);
    }

    static Field plain(Field field) {
        List<Field> children = new ArrayList<>();
        for (Field c : field.getChildren()) {
            children.add(plain(c));
        }
        return new Field(field.getName(), new FieldType(field.isNullable(), field.getType(), null, field.getMetadata()), children);
    }

    /** True for the integer types, including dictionary-free unsigned ones. */
    static boolean isInt(Field f) {
        return f.getType().getTypeID() == ArrowType.ArrowTypeID.Int;
    }

    static boolean isFloat(Field f) {
        return f.getType().getTypeID() == ArrowType.ArrowTypeID.FloatingPoint;
    }

    static boolean isString(Field f) {
        ArrowType.ArrowTypeID id = f.getType().getTypeID();
        return id == ArrowType.ArrowTypeID.Utf8 || id == ArrowType.ArrowTypeID.LargeUtf8 || id == ArrowType.ArrowTypeID.Utf8View;
    }

    static boolean isList(Field f) {
        ArrowType.ArrowTypeID id = f.getType().getTypeID();
        return id == ArrowType.ArrowTypeID.List || id == ArrowType.ArrowTypeID.LargeList
                || id == ArrowType.ArrowTypeID.FixedSizeList;
    }

    static boolean isStruct(Field f) {
        return f.getType().getTypeID() == ArrowType.ArrowTypeID.Struct;
    }
}
