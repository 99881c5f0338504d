package org.lora4j.inference.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An error answered the way the OpenAI API answers one: an HTTP status and
 * {@code {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}} (param and code may be null).
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiException(int status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: the request is malformed or asks for something this server cannot do. */
    public static ApiException badRequest(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, null);
    }

    /** 400 for a field of the wrong JSON type or out of range. */
    public static ApiException invalidValue(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, "invalid_value");
    }

    /** 401: {@code --api-key} is set and the request's bearer token is missing or different. */
    public static ApiException unauthorized(boolean missing) {
        return new ApiException(401, "invalid_request_error", missing
                ? "no API key given: send the header 'Authorization: Bearer <key>' (the server was started with "
                        + "--api-key)"
                : "incorrect API key given: use the key the server was started with (--api-key)",
                null, "invalid_api_key");
    }

    /** 403: a file path outside what the server may read. */
    public static ApiException forbidden(String message, String param) {
        return new ApiException(403, "permission_error", message, param, null);
    }

    /** 404: no such model (the base or an adapter). */
    public static ApiException modelNotFound(UnknownModelException e) {
        return new ApiException(404, "invalid_request_error", e.getMessage(), "model", "model_not_found");
    }

    /** 404: no such route. */
    public static ApiException noRoute(String method, String path) {
        return new ApiException(404, "invalid_request_error", "no route " + method + " " + path + "; this server "
                + "answers GET /health, GET /v1/models, POST /v1/completions, POST /v1/chat/completions, "
                + "POST /v1/load_lora_adapter, POST /v1/unload_lora_adapter", null, "unknown_url");
    }

    /** 405: a known route with another method. */
    public static ApiException methodNotAllowed(String method, String path, String allowed) {
        return new ApiException(405, "invalid_request_error", method + " " + path + " is not allowed; use "
                + allowed + " " + path, null, "method_not_allowed");
    }

    /** 413: a body above the server's limit. */
    public static ApiException tooLarge(long limit) {
        return new ApiException(413, "invalid_request_error", "request body is larger than " + limit
                + " bytes", null, "request_too_large");
    }

    /** 429: every worker is busy and the wait queue is full. */
    public static ApiException queueFull(String message) {
        return new ApiException(429, "rate_limit_error", message, null, "queue_full");
    }

    /** 503: the server is shutting down. */
    public static ApiException unavailable(String message) {
        return new ApiException(503, "server_error", message, null, "shutting_down");
    }

    /** 500: a bug or a failure inside the runtime. */
    public static ApiException internal(Throwable cause) {
        String what = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        ApiException e = new ApiException(500, "server_error", "internal error: " + what, null, null);
        e.initCause(cause);
        return e;
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    /** The response body. */
    public ObjectNode toJson() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode err = root.putObject("error");
        err.put("message", getMessage());
        err.put("type", type);
        err.put("param", param);
        err.put("code", code);
        return root;
    }
}
