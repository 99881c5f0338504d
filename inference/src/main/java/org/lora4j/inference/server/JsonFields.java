package org.lora4j.inference.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Typed access to the fields of a JSON request object, validated before anything is allocated from them: every
 * problem is a 400 that names the field, what was expected and what was found. A field set to {@code null} counts
 * as absent (clients often send nulls for defaults); unknown fields are ignored, as by the OpenAI API.
 */
final class JsonFields {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private final ObjectNode node;
    private final String where; // a prefix for nested objects, e.g. "messages[2]."

    JsonFields(ObjectNode node, String where) {
        this.node = node;
        this.where = where;
    }

    /** The request body as a JSON object. */
    static JsonFields parse(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest("the request body is empty; expected a JSON object such as "
                    + "{\"model\": \"...\", \"prompt\": \"...\"}", null);
        }
        JsonNode n;
        try {
            n = MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            String at = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            throw ApiException.badRequest("the request body is not valid JSON" + at + ": " + e.getOriginalMessage(),
                    null);
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("the request body could not be read: " + e.getMessage(), null);
        }
        if (n == null || !n.isObject()) {
            throw ApiException.badRequest("the request body must be a JSON object, found " + typeOf(n), null);
        }
        return new JsonFields((ObjectNode) n, "");
    }

    /** The raw value, or null when missing or JSON null. */
    JsonNode get(String name) {
        JsonNode v = node.get(name);
        return v == null || v.isNull() ? null : v;
    }

    String param(String name) {
        return where + name;
    }

    String requiredString(String name) {
        JsonNode v = get(name);
        if (v == null) {
            throw ApiException.badRequest("missing required field '" + param(name) + "'", param(name));
        }
        return asString(v, param(name));
    }

    String string(String name) {
        JsonNode v = get(name);
        return v == null ? null : asString(v, param(name));
    }

    Integer integer(String name, long min, long max) {
        JsonNode v = get(name);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber()) {
            throw wrongType(name, "an integer", v);
        }
        if (!v.canConvertToLong() || v.longValue() < min || v.longValue() > max) {
            throw ApiException.invalidValue("'" + param(name) + "' is " + v + "; expected an integer in [" + min
                    + ", " + max + "]", param(name));
        }
        return v.intValue();
    }

    Long longInteger(String name) {
        JsonNode v = get(name);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw wrongType(name, "a 64-bit integer", v);
        }
        return v.longValue();
    }

    /** A number in {@code [min, max]} (or {@code (min, max]} when {@code minExclusive}). */
    Double number(String name, double min, boolean minExclusive, double max) {
        JsonNode v = get(name);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw wrongType(name, "a number", v);
        }
        double d = v.doubleValue();
        if (!(minExclusive ? d > min : d >= min) || !(d <= max)) {
            throw ApiException.invalidValue("'" + param(name) + "' is " + v + "; expected a number in "
                    + (minExclusive ? "(" : "[") + min + ", " + max + "]", param(name));
        }
        return d;
    }

    Boolean bool(String name) {
        JsonNode v = get(name);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw wrongType(name, "true or false", v);
        }
        return v.booleanValue();
    }

    /** A nested object, or null when absent. */
    JsonFields object(String name) {
        JsonNode v = get(name);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw wrongType(name, "an object", v);
        }
        return new JsonFields((ObjectNode) v, param(name) + ".");
    }

    ApiException wrongType(String name, String expected, JsonNode found) {
        return ApiException.invalidValue("'" + param(name) + "' must be " + expected + ", found " + typeOf(found)
                + (found.isValueNode() ? " " + abbreviate(found.toString()) : ""), param(name));
    }

    static String asString(JsonNode v, String param) {
        if (!v.isTextual()) {
            throw ApiException.invalidValue("'" + param + "' must be a string, found " + typeOf(v), param);
        }
        return v.textValue();
    }

    static String typeOf(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return "null";
        }
        if (n.isTextual()) {
            return "a string";
        }
        if (n.isIntegralNumber()) {
            return "an integer";
        }
        if (n.isNumber()) {
            return "a number";
        }
        if (n.isBoolean()) {
            return "a boolean";
        }
        if (n.isArray()) {
            return "an array";
        }
        return n.isObject() ? "an object" : n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
