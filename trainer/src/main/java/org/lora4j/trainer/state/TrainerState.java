package org.lora4j.trainer.state;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Everything, besides adapter weights and optimizer moments, that a run needs to resume exactly: how many optimizer
 * steps are done, where the data stream stands (epoch and examples already consumed in it), the seed, and running
 * totals. Saved as {@code trainer_state.json} in every checkpoint (snake_case keys, like the Hugging Face Trainer's
 * file of the same name; {@code best_val_loss} is {@code null} when there is none, since JSON has no NaN).
 *
 * @param step                optimizer steps done
 * @param epoch               the epoch the data position is in (0-based)
 * @param examplesSeenInEpoch examples of that epoch already consumed: the data position to resume from
 * @param seed                the run's seed (data order and dropout are derived from it)
 * @param tokensSeen          training tokens consumed so far (for throughput and logging)
 * @param bestValLoss         the lowest validation loss so far, NaN if none
 * @param recipeHash          hash of the resolved recipe, to warn when a run resumes under a different recipe; may be null
 */
public record TrainerState(long step, long epoch, long examplesSeenInEpoch, long seed, long tokensSeen,
                           double bestValLoss, String recipeHash) {

    /** The JSON format version written into trainer_state.json. */
    public static final int FORMAT_VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final List<String> REQUIRED = List.of("step", "epoch", "examples_seen_in_epoch", "seed",
            "tokens_seen", "best_val_loss", "recipe_hash");

    public TrainerState {
        if (step < 0 || epoch < 0 || examplesSeenInEpoch < 0 || tokensSeen < 0) {
            throw new IllegalArgumentException("trainer state counters must be >= 0, found step=" + step + ", epoch="
                    + epoch + ", examples_seen_in_epoch=" + examplesSeenInEpoch + ", tokens_seen=" + tokensSeen);
        }
    }

    /** The state before the first step: nothing seen, no validation loss yet, no recipe hash. */
    public static TrainerState initial(long seed) {
        return new TrainerState(0, 0, 0, seed, 0, Double.NaN, null);
    }

    public TrainerState withRecipeHash(String hash) {
        return new TrainerState(step, epoch, examplesSeenInEpoch, seed, tokensSeen, bestValLoss, hash);
    }

    /** Pretty JSON with a trailing newline; doubles are written so that they read back bitwise. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format_version", FORMAT_VERSION);
        o.put("step", step);
        o.put("epoch", epoch);
        o.put("examples_seen_in_epoch", examplesSeenInEpoch);
        o.put("seed", seed);
        o.put("tokens_seen", tokensSeen);
        if (Double.isNaN(bestValLoss)) {
            o.putNull("best_val_loss");
        } else {
            o.put("best_val_loss", bestValLoss);
        }
        o.put("recipe_hash", recipeHash);
        try {
            return JSON.writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public byte[] toJsonBytes() {
        return toJson().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Parses what {@link #toJson} wrote.
     *
     * @param where the file it came from, for error messages
     */
    public static TrainerState fromJson(String json, String where) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(where + " is not valid JSON (" + e.getOriginalMessage() + "); the"
                    + " checkpoint is damaged: resume from an earlier checkpoint", e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(where + " is not a JSON object; expected the trainer state written by"
                    + " lora4j ({\"step\": ..., \"epoch\": ..., ...})");
        }
        List<String> missing = REQUIRED.stream().filter(k -> !root.has(k)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(where + " lacks " + String.join(", ", missing) + "; expected the keys "
                    + String.join(", ", REQUIRED) + "; the checkpoint is damaged or not written by lora4j");
        }
        int version = root.path("format_version").asInt(FORMAT_VERSION);
        if (version > FORMAT_VERSION) {
            throw new IllegalArgumentException(where + " has format_version " + version + "; this lora4j reads up to "
                    + FORMAT_VERSION + ": use the lora4j version that wrote it");
        }
        JsonNode best = root.get("best_val_loss");
        JsonNode hash = root.get("recipe_hash");
        return new TrainerState(integer(root, "step", where), integer(root, "epoch", where),
                integer(root, "examples_seen_in_epoch", where), integer(root, "seed", where),
                integer(root, "tokens_seen", where), best.isNull() ? Double.NaN : number(best, where),
                hash.isNull() ? null : hash.asText());
    }

    private static long integer(JsonNode root, String key, String where) {
        JsonNode n = root.get(key);
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw new IllegalArgumentException(where + ": " + key + " is " + n + "; expected an integer");
        }
        return n.longValue();
    }

    private static double number(JsonNode n, String where) {
        if (!n.isNumber()) {
            throw new IllegalArgumentException(where + ": best_val_loss is " + n + "; expected a number or null");
        }
        return n.doubleValue();
    }
}
