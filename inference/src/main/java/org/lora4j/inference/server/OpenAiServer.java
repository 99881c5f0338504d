package org.lora4j.inference.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible HTTP server in front of a {@link ServingRuntime}, on the JDK's {@code HttpServer} (no
 * dependencies). Routes: {@code GET /health}, {@code GET /v1/models[/ID]}, {@code POST /v1/completions},
 * {@code POST /v1/chat/completions}, {@code POST /v1/load_lora_adapter}, {@code POST /v1/unload_lora_adapter}.
 * Every error is OpenAI's JSON error object. With an API key every route but {@code /health} needs
 * {@code Authorization: Bearer KEY}. {@link #close()} is graceful: new requests get 503 while running streams finish.
 *
 * <pre>{@code
 * try (ServingRuntime rt = ServingRuntime.open(LanguageModel.load(dir), "base", Scheduler.Options.DEFAULT);
 *      OpenAiServer server = OpenAiServer.start(rt, OpenAiServer.Options.DEFAULT.withPort(8000))) {
 *     System.out.println("serving at " + server.baseUrl());
 *     ...
 * }
 * }</pre>
 */
public final class OpenAiServer implements AutoCloseable {

    /**
     * @param host          address to bind; 127.0.0.1 unless the server must be reachable from elsewhere
     * @param port          0 picks a free port ({@link #address()} tells which)
     * @param apiKey        required bearer token, or null for none
     * @param adapterRoot   the only folder {@code /v1/load_lora_adapter} may read from; null = run-time loading off
     * @param maxBodyBytes  larger request bodies get 413
     * @param shutdownGrace how long {@link #close()} waits for running requests
     */
    public record Options(String host, int port, String apiKey, Path adapterRoot, int maxBodyBytes,
                          Duration shutdownGrace) {
        public static final Options DEFAULT = new Options("127.0.0.1", 8000, null, null, 8 << 20,
                Duration.ofMinutes(5));

        public Options {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--port must be in [0, 65535], found " + port);
            }
            if (apiKey != null && apiKey.isBlank()) {
                throw new IllegalArgumentException("--api-key is empty; give a key or leave the option out");
            }
        }

        public Options withHost(String h) {
            return new Options(h, port, apiKey, adapterRoot, maxBodyBytes, shutdownGrace);
        }

        public Options withPort(int p) {
            return new Options(host, p, apiKey, adapterRoot, maxBodyBytes, shutdownGrace);
        }

        public Options withApiKey(String k) {
            return new Options(host, port, k, adapterRoot, maxBodyBytes, shutdownGrace);
        }

        public Options withAdapterRoot(Path r) {
            return new Options(host, port, apiKey, r, maxBodyBytes, shutdownGrace);
        }

        public Options withShutdownGrace(Duration g) {
            return new Options(host, port, apiKey, adapterRoot, maxBodyBytes, g);
        }
    }

    private final ServingRuntime runtime;
    private final Options options;
    private final HttpServer http;
    private final ExecutorService executor;
    private final GenerationHandler completions;
    private final GenerationHandler chatCompletions;
    private final AdapterAdminHandler admin;
    private final byte[] apiKey;
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean draining;

    private OpenAiServer(ServingRuntime runtime, Options options) throws IOException {
        this.runtime = runtime;
        this.options = options;
        this.completions = new GenerationHandler(runtime, false);
        this.chatCompletions = new GenerationHandler(runtime, true);
        this.admin = new AdapterAdminHandler(runtime.adapters(), options.adapterRoot());
        this.apiKey = options.apiKey() == null ? null : options.apiKey().getBytes(StandardCharsets.UTF_8);
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "lora4j-http-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 128);
        http.createContext("/", this::dispatch);
        http.setExecutor(executor);
    }

    /** Binds and starts serving {@code runtime} (which stays the caller's to close). */
    public static OpenAiServer start(ServingRuntime runtime, Options options) {
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            // without TCP_NODELAY each SSE event waits ~40-60 ms for Nagle's algorithm
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        try {
            OpenAiServer s = new OpenAiServer(runtime, options);
            s.http.start();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + options.host() + ":" + options.port() + ": "
                    + e.getMessage() + " (another server on that port? pick one with --port)", e);
        }
    }

    /** The bound address (the real port when started with port 0). */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** {@code http://HOST:PORT/v1}: what an OpenAI client takes as its base URL. */
    public URI baseUrl() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return URI.create("http://" + host + ":" + address().getPort() + "/v1");
    }

    /**
     * Graceful stop: new requests get 503, running and queued requests (streams included) finish within the
     * grace period, then the socket closes. The runtime is left open (close it after the server).
     */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        draining = true;
        long deadline = System.nanoTime() + options.shutdownGrace().toNanos();
        while (active.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        http.stop(0);
        executor.shutdownNow();
    }

    private void dispatch(HttpExchange ex) {
        active.incrementAndGet();
        try {
            route(ex);
        } catch (ApiException e) {
            trySendError(ex, e);
        } catch (IOException e) {
            // the client has gone; nothing to answer
        } catch (RuntimeException e) {
            System.err.println("error: " + ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + " failed: "
                    + e);
            trySendError(ex, ApiException.internal(e));
        } finally {
            ex.close();
            active.decrementAndGet();
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.equals("/health")) {
            require(method, "GET", path);
            HttpIo.sendJson(ex, draining ? 503 : 200, health());
            return;
        }
        authorize(ex);
        switch (path) {
            case "/v1/models" -> {
                require(method, "GET", path);
                HttpIo.sendJson(ex, 200, Responses.modelList(runtime.adapters().list(),
                        runtime.adapters().base().id()));
            }
            case "/v1/completions" -> {
                require(method, "POST", path);
                completions.handle(ex, body(ex));
            }
            case "/v1/chat/completions" -> {
                require(method, "POST", path);
                chatCompletions.handle(ex, body(ex));
            }
            case "/v1/load_lora_adapter" -> {
                require(method, "POST", path);
                JsonFields b = body(ex);
                HttpIo.sendJson(ex, 200, admin.load(b));
            }
            case "/v1/unload_lora_adapter" -> {
                require(method, "POST", path);
                HttpIo.sendJson(ex, 200, admin.unload(body(ex)));
            }
            default -> {
                if (path.startsWith("/v1/models/")) {
                    require(method, "GET", path);
                    String id = path.substring("/v1/models/".length());
                    try {
                        HttpIo.sendJson(ex, 200, Responses.model(runtime.adapters().resolve(id),
                                runtime.adapters().base().id()));
                    } catch (UnknownModelException e) {
                        throw ApiException.modelNotFound(e);
                    }
                    return;
                }
                throw ApiException.noRoute(method, path);
            }
        }
    }

    /** Reads the JSON body; refused while shutting down (generation and adapter loading are all POSTs). */
    private JsonFields body(HttpExchange ex) throws IOException {
        if (draining) {
            throw ApiException.unavailable("the server is shutting down and accepts no new requests");
        }
        return JsonFields.parse(HttpIo.readBody(ex, options.maxBodyBytes()));
    }

    private static void require(String method, String expected, String path) {
        if (!method.equals(expected)) {
            throw ApiException.methodNotAllowed(method, path, expected);
        }
    }

    private void authorize(HttpExchange ex) {
        if (apiKey == null) {
            return;
        }
        String h = ex.getRequestHeaders().getFirst("Authorization");
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.unauthorized(true);
        }
        byte[] given = h.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, apiKey)) {
            throw ApiException.unauthorized(false);
        }
    }

    private ObjectNode health() {
        Scheduler.Stats s = runtime.stats();
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("status", draining ? "shutting_down" : "ok");
        o.put("models", runtime.adapters().list().size()); // counts only: /health needs no key
        o.put("workers", s.workers());
        o.put("busy_workers", s.busyWorkers());
        o.put("running", s.running());
        o.put("queued", s.queued());
        o.put("completed", s.completed());
        o.put("cancelled", s.cancelled());
        o.put("rejected", s.rejected());
        o.put("batches", s.batches());
        o.put("largest_batch", s.largestBatch());
        o.put("mixed_batches", s.mixedBatches());
        return o;
    }

    private static void trySendError(HttpExchange ex, ApiException e) {
        try {
            HttpIo.sendError(ex, e);
        } catch (IOException | RuntimeException ignored) {
            // headers already sent (a stream) or the client has gone
        }
    }
}
