package org.lora4j.inference.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.lora4j.inference.generate.GenerationConfig;

/**
 * The sampling fields shared by {@code /v1/completions} and {@code /v1/chat/completions}, with the OpenAI API's
 * names and defaults (temperature 1, top_p 1), plus vLLM's {@code top_k}, {@code repetition_penalty} and
 * {@code ignore_eos}. Fields
 * that ask for something this server does not do ({@code n > 1}, logprobs, penalties, tools, ...) are refused with
 * a 400 rather than ignored.
 *
 * @param maxTokens    {@code max_tokens} (chat: also {@code max_completion_tokens}); null = the endpoint's default
 * @param seed         null = a fresh random seed per request
 * @param stop         up to 4 stop strings; generation ends before the first one and the text is cut there
 * @param includeUsage {@code stream_options.include_usage}: a last streamed chunk carries the token counts
 * @param ignoreEos    vLLM's {@code ignore_eos}: generate exactly max_tokens (benchmarks, tests)
 */
record SamplingParams(Integer maxTokens, double temperature, double topP, int topK, double repetitionPenalty,
                      Long seed, List<String> stop, boolean stream, boolean includeUsage, boolean ignoreEos) {

    static final int MAX_STOP = 4;

    static SamplingParams parse(JsonFields f, boolean chat) {
        Integer n = f.integer("n", 1, Integer.MAX_VALUE);
        if (n != null && n != 1) {
            throw ApiException.invalidValue("'n' is " + n + "; this server returns one choice per request (n = 1): "
                    + "send " + n + " requests instead", "n");
        }
        refuseUnsupported(f, chat);
        Integer maxTokens = f.integer("max_tokens", 1, Integer.MAX_VALUE);
        if (chat) {
            Integer mct = f.integer("max_completion_tokens", 1, Integer.MAX_VALUE);
            maxTokens = mct != null ? mct : maxTokens;
        }
        Double temperature = f.number("temperature", 0, false, 2);
        Double topP = f.number("top_p", 0, true, 1);
        Integer topK = f.integer("top_k", -1, Integer.MAX_VALUE);
        Double rep = f.number("repetition_penalty", 0, true, Double.MAX_VALUE);
        boolean stream = Boolean.TRUE.equals(f.bool("stream"));
        JsonFields opts = f.object("stream_options");
        boolean includeUsage = opts != null && Boolean.TRUE.equals(opts.bool("include_usage"));
        if (opts != null && !stream) {
            throw ApiException.invalidValue("'stream_options' is only allowed with \"stream\": true", "stream_options");
        }
        return new SamplingParams(maxTokens, temperature == null ? 1.0 : temperature, topP == null ? 1.0 : topP,
                topK == null || topK < 0 ? 0 : topK, rep == null ? 1.0 : rep, f.longInteger("seed"), stops(f),
                stream, includeUsage, Boolean.TRUE.equals(f.bool("ignore_eos")));
    }

    /** The generation settings for {@code maxNew} new tokens and {@code seed}. */
    GenerationConfig toConfig(int maxNew, long seed, int[] eosTokenIds) {
        return new GenerationConfig(maxNew, temperature, topK, topP, repetitionPenalty, seed, stop,
                ignoreEos ? new int[0] : eosTokenIds);
    }

    private static List<String> stops(JsonFields f) {
        JsonNode v = f.get("stop");
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.isTextual()) {
            out.add(v.textValue());
        } else if (v.isArray()) {
            if (v.size() > MAX_STOP) {
                throw ApiException.invalidValue("'stop' holds " + v.size() + " strings; at most " + MAX_STOP
                        + " are allowed", "stop");
            }
            for (int i = 0; i < v.size(); i++) {
                out.add(JsonFields.asString(v.get(i), "stop[" + i + "]"));
            }
        } else {
            throw f.wrongType("stop", "a string or an array of strings", v);
        }
        for (String s : out) {
            if (s.isEmpty()) {
                throw ApiException.invalidValue("'stop' holds an empty string; every stop string needs at least "
                        + "one character", "stop");
            }
        }
        return out;
    }

    /** Fields whose non-default values ask for features this server does not have. */
    private static void refuseUnsupported(JsonFields f, boolean chat) {
        for (String name : new String[] {"presence_penalty", "frequency_penalty"}) {
            Double d = f.number(name, -2, false, 2);
            if (d != null && d != 0) {
                throw ApiException.invalidValue("'" + name + "' is not supported (only 0); use "
                        + "\"repetition_penalty\" (HF semantics, 1 = off) instead", name);
            }
        }
        JsonNode logprobs = f.get("logprobs");
        if (logprobs != null && !(logprobs.isBoolean() && !logprobs.booleanValue())
                && !(logprobs.isIntegralNumber() && logprobs.intValue() == 0)) {
            throw ApiException.invalidValue("'logprobs' is not supported by this server; leave it out "
                    + "(POST the text to `lora4j score` for log-probabilities)", "logprobs");
        }
        Integer topLogprobs = f.integer("top_logprobs", 0, 20);
        if (topLogprobs != null && topLogprobs != 0) {
            throw ApiException.invalidValue("'top_logprobs' is not supported by this server", "top_logprobs");
        }
        JsonNode bias = f.get("logit_bias");
        if (bias != null && !(bias.isObject() && bias.isEmpty())) {
            throw ApiException.invalidValue("'logit_bias' is not supported by this server", "logit_bias");
        }
        if (chat) {
            JsonNode tools = f.get("tools");
            if (tools != null && !(tools.isArray() && tools.isEmpty())) {
                throw ApiException.invalidValue("'tools' (function calling) is not supported by this server",
                        "tools");
            }
            JsonFields format = f.object("response_format");
            if (format != null && !"text".equals(format.string("type"))) {
                throw ApiException.invalidValue("'response_format' other than {\"type\": \"text\"} is not "
                        + "supported by this server", "response_format");
            }
        } else {
            if (Boolean.TRUE.equals(f.bool("echo"))) {
                throw ApiException.invalidValue("'echo' is not supported by this server", "echo");
            }
            Integer bestOf = f.integer("best_of", 1, Integer.MAX_VALUE);
            if (bestOf != null && bestOf != 1) {
                throw ApiException.invalidValue("'best_of' must be 1 on this server", "best_of");
            }
            String suffix = f.string("suffix");
            if (suffix != null && !suffix.isEmpty()) {
                throw ApiException.invalidValue("'suffix' (insertion) is not supported by this server", "suffix");
            }
        }
    }
}
