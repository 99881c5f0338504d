package org.lora4j.trainer.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The demo's domain task: turn a free-text customer message into a fixed JSON form
 * {@code {"department": ..., "priority": ...}}. The department follows from what the message is about, the priority
 * from how urgent it sounds; the phrasing varies. Accuracy is exact match of the generated JSON. Seeded.
 */
public final class TicketTask {
    /** The instruction every request starts with. */
    public static final String INSTRUCTION = "Route this message. Reply with JSON only.";

    public record Example(String message, String department, String priority) {
        /** The expected answer, exactly as the model should write it. */
        public String json() {
            return "{\"department\": \"" + department + "\", \"priority\": \"" + priority + "\"}";
        }

        public String prompt() {
            return INSTRUCTION + "\n" + message;
        }
    }

    private static final String[][] TOPICS = {
        {"billing", "I was charged twice for my order", "my invoice shows the wrong amount", "I need a refund for last month",
            "the payment did not go through", "why is there an extra fee on my bill"},
        {"technical", "the app crashes when I open it", "I cannot log in since the update", "the website shows an error",
            "my device will not connect to wifi", "the screen stays black after start"},
        {"shipping", "my package has not arrived", "the parcel was sent to the wrong address", "tracking shows no update",
            "the box arrived damaged", "when will my order be delivered"},
        {"account", "I want to change my email address", "please close my account", "I forgot my password",
            "how do I update my phone number", "someone else is using my profile"},
    };
    private static final String[][] URGENCY = {
        {"high", "This is urgent!", "Please help right now.", "I need this fixed today.", "ASAP please."},
        {"normal", "Thanks.", "Can you help?", "Please let me know.", "Kind regards."},
        {"low", "No rush.", "Whenever you have time.", "It can wait until next week.", "Just so you know."},
    };
    private static final String[] OPENERS = {"Hello,", "Hi team,", "Good morning.", "Hey,", "Dear support,", ""};

    private TicketTask() {
    }

    public static List<Example> examples(long seed, int n) {
        Random r = new Random(seed);
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String[] topic = TOPICS[r.nextInt(TOPICS.length)];
            String[] urgency = URGENCY[r.nextInt(URGENCY.length)];
            String opener = OPENERS[r.nextInt(OPENERS.length)];
            String body = topic[1 + r.nextInt(topic.length - 1)];
            String tail = urgency[1 + r.nextInt(urgency.length - 1)];
            String message = (opener.isEmpty() ? "" : opener + " ") + capitalize(body) + ". " + tail;
            out.add(new Example(message, topic[0], urgency[0]));
        }
        return out;
    }

    /** Every sentence fragment of the task, for the base model's pre-training corpus (never the JSON answers). */
    public static List<String> fragments() {
        List<String> f = new ArrayList<>();
        for (String[] t : TOPICS) {
            for (int i = 1; i < t.length; i++) {
                f.add(capitalize(t[i]) + ".");
            }
        }
        for (String[] u : URGENCY) {
            for (int i = 1; i < u.length; i++) {
                f.add(u[i]);
            }
        }
        return f;
    }

    /** Exact match after trimming whitespace. */
    public static boolean correct(Example e, String generated) {
        return generated.trim().equals(e.json());
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
    }
}
