package org.lora4j.data.arrow;

import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;

/**
 * What a consumer needs a column to hold, checked by {@link Dataset#requireColumn} against the Arrow type.
 * Large and fixed-size lists count as lists, {@code large_string} and dictionary-encoded strings as strings.
 */
public enum ColumnType {
    STRING("a string column (string / large_string)"),
    INT("an integer column (int8..int64, uint8..uint64)"),
    /** Floating point; integer columns are accepted too, their values convert exactly enough for data prep. */
    FLOAT("a number column (float16/32/64 or an integer type)"),
    BOOL("a bool column"),
    LIST_OF_STRUCT("a list of structs, e.g. list<struct<role: string, content: string>>"),
    LIST_OF_INT("a list of integers, e.g. list<int32>"),
    LIST_OF_STRING("a list of strings, e.g. list<string>"),
    STRUCT("a struct column, e.g. struct<prompt: string, answer: string>"),
    ANY("a column of any type");

    private final String description;

    ColumnType(String description) {
        this.description = description;
    }

    /** Plain words for error messages. */
    public String description() {
        return description;
    }

    /** Whether a column with this Arrow field satisfies the requirement. */
    public boolean accepts(Field field) {
        switch (this) {
            case STRING: return ArrowTypes.isString(field);
            case INT: return ArrowTypes.isInt(field);
            case FLOAT: return ArrowTypes.isFloat(field) || ArrowTypes.isInt(field);
            case BOOL: return field.getType().getTypeID() == ArrowType.ArrowTypeID.Bool;
            case LIST_OF_STRUCT: return ArrowTypes.isList(field) && ArrowTypes.isStruct(field.getChildren().get(0));
            case LIST_OF_INT: return ArrowTypes.isList(field) && ArrowTypes.isInt(field.getChildren().get(0));
            case LIST_OF_STRING: return ArrowTypes.isList(field) && ArrowTypes.isString(field.getChildren().get(0));
            case STRUCT: return ArrowTypes.isStruct(field);
            case ANY: return true;
            default: throw new AssertionError(this);
        }
    }

    /** The most specific type a field satisfies (ANY when none of the others). */
    public static ColumnType of(Field field) {
        for (ColumnType t : values()) {
            if (t != FLOAT || !ArrowTypes.isInt(field)) {
                if (t.accepts(field)) {
                    return t;
                }
            }
        }
        return ANY;
    }
}
