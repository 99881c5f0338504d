package org.lora4j.data.arrow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * An Arrow schema as Hugging Face {@code datasets} "features" (the JSON in {@code dataset_info.json} and in the
 * {@code huggingface} schema metadata): {@code {"dtype": "string", "_type": "Value"}} for scalars, a nested
 * object for a struct, {@code [ {struct} ]} for a list of structs, {@code {"feature": ..., "_type": "Sequence"}}
 * for other lists and {@code "LargeList"} for large lists. These spellings load in datasets 2.x through 4.x.
 */
final class HfFeatures {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private HfFeatures() {}

    static ObjectNode of(Schema schema) {
        ObjectNode out = NODES.objectNode();
        for (Field f : schema.getFields()) {
            out.set(f.getName(), feature(f));
        }
        return out;
    }

    private static JsonNode feature(Field f) {
        ArrowType type = f.getType();
        switch (type.getTypeID()) {
            case Struct: {
                ObjectNode out = NODES.objectNode();
                for (Field c : f.getChildren()) {
                    out.set(c.getName(), feature(c));
                }
                return out;
            }
            case List: {
                Field item = f.getChildren().get(0);
                if (ArrowTypes.isStruct(item)) {
                    return NODES.arrayNode().add(feature(item));
                }
                return sequence(item, "Sequence");
            }
            case LargeList:
                return sequence(f.getChildren().get(0), "LargeList");
            case FixedSizeList: {
                ObjectNode out = sequence(f.getChildren().get(0), "Sequence");
                out.remove("_type");
                out.put("length", ((ArrowType.FixedSizeList) type).getListSize());
                out.put("_type", "Sequence");
                return out;
            }
            default:
                return value(dtype(f));
        }
    }

    private static ObjectNode sequence(Field item, String kind) {
        ObjectNode out = NODES.objectNode();
        out.set("feature", feature(item));
        out.put("_type", kind);
        return out;
    }

    private static ObjectNode value(String dtype) {
        ObjectNode out = NODES.objectNode();
        out.put("dtype", dtype);
        out.put("_type", "Value");
        return out;
    }

    private static String dtype(Field f) {
        ArrowType type = f.getType();
        switch (type.getTypeID()) {
            case Utf8: return "string";
            case LargeUtf8: return "large_string";
            case Bool: return "bool";
            case Binary: return "binary";
            case LargeBinary: return "large_binary";
            case Null: return "null";
            case Int: {
                ArrowType.Int i = (ArrowType.Int) type;
                return (i.getIsSigned() ? "int" : "uint") + i.getBitWidth();
            }
            case FloatingPoint: {
                FloatingPointPrecision p = ((ArrowType.FloatingPoint) type).getPrecision();
                return p == FloatingPointPrecision.HALF ? "float16" : p == FloatingPointPrecision.SINGLE ? "float32" : "float64";
            }
            default:
                throw new DatasetException("column '" + f.getName() + "' has type " + ArrowTypes.describe(f)
                        + ", which lora4j cannot write as a Hugging Face feature; use strings, numbers, bools, lists, structs");
        }
    }
}
