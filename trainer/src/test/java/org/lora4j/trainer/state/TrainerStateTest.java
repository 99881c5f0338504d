package org.lora4j.trainer.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TrainerStateTest {

    @Test
    void initialState() {
        TrainerState s = TrainerState.initial(42);
        assertEquals(new TrainerState(0, 0, 0, 42, 0, Double.NaN, null), s);
    }

    @Test
    void jsonRoundTripIsExact() {
        TrainerState s = new TrainerState(1234, 3, 567, -9, 1L << 40, 0.1 + 0.2, "ab12");
        TrainerState back = TrainerState.fromJson(s.toJson(), "x");
        assertEquals(s, back);
        assertEquals(Double.doubleToRawLongBits(0.1 + 0.2), Double.doubleToRawLongBits(back.bestValLoss()));
        TrainerState initial = TrainerState.initial(7);
        assertEquals(initial, TrainerState.fromJson(initial.toJson(), "x"));
        assertTrue(initial.toJson().contains("\"best_val_loss\" : null"), initial.toJson());
        assertEquals("h", initial.withRecipeHash("h").recipeHash());
    }

    @Test
    void damagedJsonIsExplained() {
        String msg = assertThrows(IllegalArgumentException.class,
                () -> TrainerState.fromJson("{\"step\": 3}", "ck/trainer_state.json")).getMessage();
        assertTrue(msg.startsWith("ck/trainer_state.json lacks epoch, examples_seen_in_epoch, seed"), msg);
        msg = assertThrows(IllegalArgumentException.class,
                () -> TrainerState.fromJson("{\"step\": 3", "f")).getMessage();
        assertTrue(msg.startsWith("f is not valid JSON"), msg);
        String json = new TrainerState(1, 0, 0, 0, 0, Double.NaN, null).toJson().replace("\"step\" : 1",
                "\"step\" : \"one\"");
        msg = assertThrows(IllegalArgumentException.class, () -> TrainerState.fromJson(json, "f")).getMessage();
        assertEquals("f: step is \"one\"; expected an integer", msg);
        assertThrows(IllegalArgumentException.class, () -> new TrainerState(-1, 0, 0, 0, 0, 0, null));
    }
}
