package org.lora4j.trainer.bench;

import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The machine's own limits, measured in the benchmark's process: FP32 sgemm throughput of ND4J's BLAS at square and
 * transformer shapes ({@code Nd4j.gemm} into a preallocated output, the weight transposed as {@code Linear} does),
 * and read memory bandwidth (a Java loop summing a native buffer far larger than the caches).
 */
public final class MachineLimits {

    /** One sgemm shape: C[m,n] = A[m,k]·B[n,k]ᵀ, i.e. 2·m·n·k FLOPs. */
    public record GemmShape(String label, int m, int n, int k) {
        public double flops() {
            return 2.0 * m * n * k;
        }
    }

    /** GFLOP/s of every timed call at one shape and thread count. */
    public record GemmResult(GemmShape shape, int threads, Samples gflops) {
    }

    /** GB/s of every timed pass over the buffer with {@code threads} reader threads. */
    public record Bandwidth(int threads, long bufferBytes, Samples gbPerSecond) {
    }

    /**
     * Everything measured; {@link #peakGflops()} is the MFU denominator and {@link #readBytesPerSecond()} the decode
     * bound's. Both are the best observed values (peaks), not medians: on a shared machine other processes only ever
     * lower a measurement, and a lower denominator would flatter MFU and the decode fraction.
     */
    public record Result(List<GemmResult> gemm, List<Bandwidth> bandwidth, int threads) {

        /** The highest sgemm GFLOP/s of any call at all threads over the measured shapes. */
        public double peakGflops() {
            return gemm.stream().filter(g -> g.threads() == threads).mapToDouble(g -> g.gflops().max())
                    .max().orElseThrow();
        }

        public GemmShape peakShape() {
            return gemm.stream().filter(g -> g.threads() == threads)
                    .max((a, b) -> Double.compare(a.gflops().max(), b.gflops().max())).orElseThrow().shape();
        }

        /** The highest read bandwidth of any pass, at any reader-thread count, in bytes/s. */
        public double readBytesPerSecond() {
            return bandwidth.stream().mapToDouble(b -> b.gbPerSecond().max()).max().orElseThrow() * 1e9;
        }

        /** This run's samples followed by {@code later}'s, shape by shape (the same shapes, measured again). */
        public Result merge(Result later) {
            List<GemmResult> g = new ArrayList<>();
            for (int i = 0; i < gemm.size(); i++) {
                GemmResult a = gemm.get(i);
                g.add(new GemmResult(a.shape(), a.threads(), a.gflops().concat(later.gemm().get(i).gflops())));
            }
            List<Bandwidth> b = new ArrayList<>();
            for (int i = 0; i < bandwidth.size(); i++) {
                Bandwidth a = bandwidth.get(i);
                b.add(new Bandwidth(a.threads(), a.bufferBytes(),
                        a.gbPerSecond().concat(later.bandwidth().get(i).gbPerSecond())));
            }
            return new Result(g, b, threads);
        }
    }

    private MachineLimits() {
    }

    /** The square reference plus the big matmuls of each shape's training step. */
    public static List<GemmShape> shapes(List<BenchShape> benchShapes) {
        List<GemmShape> s = new ArrayList<>();
        s.add(new GemmShape("square 2048³", 2048, 2048, 2048));
        for (BenchShape b : benchShapes) {
            var c = b.config();
            int m = (int) b.tokensPerStep();
            s.add(new GemmShape(b.name() + " q/o_proj", m, c.qDim(), c.hiddenSize()));
            s.add(new GemmShape(b.name() + " gate/up_proj", m, c.intermediateSize(), c.hiddenSize()));
            s.add(new GemmShape(b.name() + " down_proj", m, c.hiddenSize(), c.intermediateSize()));
            s.add(new GemmShape(b.name() + " lm_head", m, c.vocabSize(), c.hiddenSize()));
        }
        return s;
    }

    /**
     * Measures every shape at {@code threads} BLAS threads (and the square one at 1 thread), then the read bandwidth
     * with 1 and {@code threads} reader threads.
     */
    public static Result measure(List<GemmShape> shapes, int threads, int reps, long bandwidthBytes) {
        List<GemmResult> gemm = new ArrayList<>();
        for (GemmShape s : shapes) {
            gemm.add(new GemmResult(s, threads, sgemm(s, reps)));
        }
        if (threads > 1) {
            setBlasThreads(1);
            try {
                gemm.add(new GemmResult(shapes.get(0), 1, sgemm(shapes.get(0), reps)));
            } finally {
                setBlasThreads(threads);
            }
        }
        List<Bandwidth> bw = new ArrayList<>();
        bw.add(new Bandwidth(1, bandwidthBytes, readBandwidth(bandwidthBytes, 1, reps)));
        if (threads > 1) {
            bw.add(new Bandwidth(threads, bandwidthBytes, readBandwidth(bandwidthBytes, threads, reps)));
        }
        return new Result(gemm, bw, threads);
    }

    static void setBlasThreads(int n) {
        Nd4j.factory().blas().setMaxThreads(n);
        Nd4j.getEnvironment().setMaxThreads(n);
    }

    /** GFLOP/s of {@code reps} calls after two warm-up calls, all into the same preallocated C. */
    static Samples sgemm(GemmShape s, int reps) {
        try (INDArray a = Nd4j.rand(DataType.FLOAT, s.m(), s.k());
             INDArray b = Nd4j.rand(DataType.FLOAT, s.n(), s.k());
             INDArray c = Nd4j.createUninitialized(DataType.FLOAT, s.m(), s.n())) {
            for (int i = 0; i < 2; i++) {
                Nd4j.gemm(a, b, c, false, true, 1.0, 0.0);
            }
            double[] g = new double[reps];
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                Nd4j.gemm(a, b, c, false, true, 1.0, 0.0);
                g[i] = s.flops() / (System.nanoTime() - t0);                              // FLOP/ns = GFLOP/s
            }
            return new Samples(g);
        }
    }

    /**
     * GB/s of {@code reps} passes (after one warm-up pass) over a native buffer of {@code bytes} (the kind of memory
     * ND4J keeps weights in), split into {@code threads} contiguous slices each summed as 64-bit words with eight
     * independent accumulators, so the loop waits on memory and not on an add chain.
     */
    static Samples readBandwidth(long bytes, int threads, int reps) {
        long words = bytes / 8;
        if (words > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bandwidth buffer of " + bytes + " bytes is too large; use < 16 GiB");
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (INDArray buf = Nd4j.createUninitialized(DataType.LONG, words)) {
            buf.assign(1);                                                                 // touch every page
            LongBuffer lb = buf.data().asNio().order(ByteOrder.nativeOrder()).asLongBuffer();
            int n = (int) words;
            long[] sink = new long[1];
            double[] gbs = new double[reps];
            for (int r = -1; r < reps; r++) {
                List<Future<Long>> parts = new ArrayList<>();
                long t0 = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    int from = (int) ((long) n * t / threads) & ~7;
                    int to = t == threads - 1 ? n & ~7 : (int) ((long) n * (t + 1) / threads) & ~7;
                    parts.add(pool.submit(() -> sum(lb, from, to)));
                }
                for (Future<Long> f : parts) {
                    sink[0] += f.get();
                }
                long ns = System.nanoTime() - t0;
                if (r >= 0) {
                    gbs[r] = (double) (n & ~7) * 8 / ns;
                }
            }
            if (sink[0] != (long) (reps + 1) * (n & ~7)) {
                throw new IllegalStateException("bandwidth loop summed " + sink[0] + "; expected "
                        + (long) (reps + 1) * (n & ~7));
            }
            return new Samples(gbs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring bandwidth", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("bandwidth reader failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static long sum(LongBuffer b, int from, int to) {
        long s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        for (int i = from; i < to; i += 8) {
            s0 += b.get(i);
            s1 += b.get(i + 1);
            s2 += b.get(i + 2);
            s3 += b.get(i + 3);
            s4 += b.get(i + 4);
            s5 += b.get(i + 5);
            s6 += b.get(i + 6);
            s7 += b.get(i + 7);
        }
        return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
    }
}
