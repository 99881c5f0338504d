package org.lora4j.trainer.cli;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.server.OpenAiServer;
import org.lora4j.inference.server.Scheduler;
import org.lora4j.inference.server.ServedModel;
import org.lora4j.inference.server.ServingRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code lora4j serve}: an OpenAI-compatible HTTP server for a base model and its LoRA adapters. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model and its LoRA adapters over an OpenAI-compatible HTTP API: GET /v1/models, "
                + "POST /v1/completions, POST /v1/chat/completions (streaming with \"stream\": true), "
                + "POST /v1/load_lora_adapter, POST /v1/unload_lora_adapter, GET /health.",
            "A request picks an adapter with \"model\": \"<adapter name>\"; the base's name selects none. Adapters "
                + "are applied unmerged and share one copy of the base weights. Ctrl-C stops after running requests "
                + "finish."},
        footer = {"", "Examples:",
            "  lora4j serve -m runs/tiny-llama --adapter sql=runs/tiny-lora/adapter",
            "  lora4j serve -m DIR --adapter sql=runs/tiny-lora/adapter --merge sql",
            "  LORA4J_API_KEY=secret lora4j serve -m DIR --host 0.0.0.0 --adapter-dir runs",
            "  curl localhost:8000/v1/chat/completions -H 'Content-Type: application/json' \\",
            "    -d '{\"model\":\"sql\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}'"})
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR",
            description = "Hugging Face model folder (config.json + *.safetensors + tokenizer.json).")
    Path model;

    @Option(names = "--served-model-name", paramLabel = "NAME",
            description = "The base model's name in requests and /v1/models. Default: the model folder's name.")
    String servedName;

    @Option(names = "--adapter", paramLabel = "NAME=DIR", mapFallbackValue = "",
            description = "A PEFT adapter folder served as NAME (repeatable).")
    Map<String, Path> adapters = new LinkedHashMap<>();

    @Option(names = "--merge", paramLabel = "NAME",
            description = "Merge adapter NAME into the weights and serve only it, at the base's speed.")
    String merge;

    @Option(names = "--adapter-dir", paramLabel = "DIR",
            description = "Allow POST /v1/load_lora_adapter to load adapter folders under DIR (and nowhere else).")
    Path adapterDir;

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "Address to bind (0.0.0.0 = every interface). Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", defaultValue = "8000",
            description = "Port to listen on (0 picks a free one, printed at start). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:LORA4J_API_KEY}",
            description = "Require 'Authorization: Bearer KEY' on every route but /health. Default: $LORA4J_API_KEY.")
    String apiKey;

    @Option(names = "--max-concurrency", defaultValue = "4",
            description = "Batches decoded at the same time (worker threads). Default: ${DEFAULT-VALUE}.")
    int maxConcurrency;

    @Option(names = "--max-queue", defaultValue = "64",
            description = "Requests that may wait for a worker; more get 429. Default: ${DEFAULT-VALUE}.")
    int maxQueue;

    @Option(names = "--max-batch", defaultValue = "8",
            description = "Requests decoded together in one batch (the base and any adapters mixed). "
                    + "Default: ${DEFAULT-VALUE}.")
    int maxBatch;

    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CompletableFuture<URI> started = new CompletableFuture<>();

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        Scheduler.Options scheduling = schedulingOptions();
        OpenAiServer.Options serving = servingOptions();
        checkAdapters();
        long t0 = System.nanoTime();
        LanguageModel base = LanguageModel.load(model);
        ServingRuntime runtime;
        try {
            if (merge != null) {
                Path dir = adapters.get(merge);
                runtime = ServingRuntime.merged(base, merge, PeftAdapterFiles.load(dir,
                        base.decoder().weights().dataType(), w -> err.println("warning: " + w)), dir, scheduling);
            } else {
                runtime = ServingRuntime.open(base, servedName != null ? servedName : defaultName(), scheduling);
                adapters.forEach(runtime.adapters()::load);
            }
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
        OpenAiServer server;
        try {
            server = OpenAiServer.start(runtime, serving);
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
        String names = runtime.adapters().list().stream().map(ServedModel::id).collect(Collectors.joining(", "));
        err.printf("loaded %s from %s in %.1f s%n", base.config(), model, (System.nanoTime() - t0) / 1e9);
        err.printf("serving %s at %s (%d workers, batches of up to %d, queue %d)%s; Ctrl-C stops%n", names,
                server.baseUrl(), scheduling.maxConcurrency(), scheduling.maxBatch(), scheduling.maxQueue(),
                apiKey == null ? "" : ", API key required");
        if (apiKey == null && !isLoopback(host)) {
            err.println("warning: --host " + host + " is reachable from other machines and no --api-key is set");
        }
        err.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {   // Ctrl-C / SIGTERM: the JVM exits once the running requests have finished
            stop();
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "lora4j-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        started.complete(server.baseUrl());
        try {
            stopRequested.await();
        } finally {
            err.println("stopping: finishing running requests ...");
            err.flush();
            server.close();
            runtime.close();
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook itself is what stopped us
            }
        }
        return 0;
    }

    /**
     * The server's base URL ({@code http://HOST:PORT/v1}) once it accepts requests, e.g. to learn the port picked by
     * {@code --port 0} when the command runs inside another JVM program (tests).
     */
    CompletableFuture<URI> started() {
        return started;
    }

    /** Stops like Ctrl-C: new requests get 503, running ones finish, then {@link #call()} returns 0. */
    void stop() {
        stopRequested.countDown();
    }

    private Scheduler.Options schedulingOptions() {
        try {
            return new Scheduler.Options(maxConcurrency, maxQueue, maxBatch);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private OpenAiServer.Options servingOptions() {
        try {
            return OpenAiServer.Options.DEFAULT.withHost(host).withPort(port)
                    .withApiKey(apiKey == null || apiKey.isEmpty() ? null : apiKey).withAdapterRoot(adapterDir);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private void checkAdapters() {
        for (Map.Entry<String, Path> a : adapters.entrySet()) {
            if (a.getKey().isBlank() || a.getValue() == null || a.getValue().toString().isEmpty()) {
                throw new ParameterException(spec.commandLine(), "--adapter " + a.getKey() + " needs NAME=DIR, e.g. "
                        + "--adapter sql=runs/sql/adapter");
            }
        }
        if (merge == null) {
            return;
        }
        if (!adapters.containsKey(merge)) {
            throw new ParameterException(spec.commandLine(), "--merge " + merge + " names no --adapter; given: "
                    + (adapters.isEmpty() ? "none" : String.join(", ", adapters.keySet()))
                    + " (e.g. --adapter " + merge + "=DIR --merge " + merge + ")");
        }
        if (adapters.size() > 1 || adapterDir != null) {
            throw new ParameterException(spec.commandLine(), "--merge " + merge + " serves that one adapter merged "
                    + "into the weights; other adapters (--adapter, --adapter-dir) would be applied on top of it. "
                    + "Start a second server without --merge for them");
        }
    }

    private String defaultName() {
        Path name = model.toAbsolutePath().normalize().getFileName();
        return name == null ? "base" : name.toString();
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
