package org.lora4j.inference.server;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.inference.LanguageModel;

/**
 * The names a server answers to: one base model plus any number of LoRA adapters applied unmerged on it, so that N
 * adapters share one copy of the base weights (each adapter adds only its A and B). Adapters can be attached and
 * detached while requests run: a running request keeps the {@link ServedModel} it started with.
 *
 * <p>With {@code --merge} the registry holds one merged model and nothing can be attached to it (an adapter would
 * be applied on top of another adapter's weights).
 */
public final class AdapterRegistry {
    private final ServedModel base;
    private final Consumer<String> warnings;
    private final Map<String, ServedModel> adapters = new LinkedHashMap<>(); // guarded by this

    AdapterRegistry(ServedModel base, Consumer<String> warnings) {
        this.base = base;
        this.warnings = warnings;
    }

    /** The base model (or the merged one with {@code --merge}). */
    public ServedModel base() {
        return base;
    }

    /** The base first, then the adapters in the order they were attached. */
    public synchronized List<ServedModel> list() {
        List<ServedModel> all = new ArrayList<>(adapters.size() + 1);
        all.add(base);
        all.addAll(adapters.values());
        return all;
    }

    /** The model a request's {@code "model"} names. */
    public synchronized ServedModel resolve(String id) {
        if (base.id().equals(id)) {
            return base;
        }
        ServedModel m = adapters.get(id);
        if (m == null) {
            throw new UnknownModelException(id, names());
        }
        return m;
    }

    /** Loads a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) and serves it as {@code name}. */
    public ServedModel load(String name, Path dir) {
        checkAttachable(name);
        LanguageModel lm = base.model();
        LoraAdapter adapter = PeftAdapterFiles.load(dir, lm.decoder().weights().computeType(), warnings);
        return attach(name, adapter, dir);
    }

    /** Serves {@code adapter} (already in memory) as {@code name}; {@code source} may be null. */
    public ServedModel attach(String name, LoraAdapter adapter, Path source) {
        LanguageModel lm = base.model().withAdapter(adapter); // checks that every adapted module fits the base
        synchronized (this) {
            checkAttachable(name);
            ServedModel m = new ServedModel(name, lm, source, ServedModel.Kind.ADAPTER, Instant.now().getEpochSecond());
            adapters.put(name, m);
            return m;
        }
    }

    /** Stops serving adapter {@code name}; requests already running with it finish normally. */
    public synchronized ServedModel unload(String name) {
        if (base.id().equals(name)) {
            throw new IllegalArgumentException("'" + name + "' is the base model, which cannot be unloaded; name an "
                    + "adapter: " + String.join(", ", adapters.keySet()));
        }
        ServedModel m = adapters.remove(name);
        if (m == null) {
            throw new UnknownModelException(name, names());
        }
        return m;
    }

    private synchronized void checkAttachable(String name) {
        if (base.kind() == ServedModel.Kind.MERGED) {
            throw new IllegalStateException("this server serves '" + base.id() + "' merged into the base weights "
                    + "(--merge), so no other adapter can be applied on top; start a server without --merge to "
                    + "serve several adapters");
        }
        checkName(name);
        if (base.id().equals(name) || adapters.containsKey(name)) {
            throw new IllegalArgumentException("the name '" + name + "' is already served (" + String.join(", ",
                    names()) + "); unload it first or pick another name");
        }
    }

    /** A served name: 1 to 256 printable characters without spaces. */
    static void checkName(String name) {
        if (name == null || name.isEmpty() || name.length() > 256
                || !name.codePoints().allMatch(c -> c > ' ' && c != 0x7f && !Character.isISOControl(c))) {
            throw new IllegalArgumentException("adapter name '" + name + "' is not valid; expected 1 to 256 "
                    + "printable characters without spaces, e.g. sql-lora");
        }
    }

    private List<String> names() {
        List<String> n = new ArrayList<>();
        n.add(base.id());
        n.addAll(adapters.keySet());
        return n;
    }
}
