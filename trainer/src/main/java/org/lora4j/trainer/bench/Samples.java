package org.lora4j.trainer.bench;

import java.util.Arrays;
import java.util.List;

/** Repeated measurements of one quantity: median and spread (min, max). Values are as given (seconds, rates...). */
public record Samples(double[] values) {

    public Samples {
        if (values.length == 0) {
            throw new IllegalArgumentException("no samples: run at least one measured step (--steps >= 1)");
        }
        values = values.clone();
    }

    public static Samples of(List<Double> v) {
        return new Samples(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    public int count() {
        return values.length;
    }

    public double median() {
        double[] s = sorted();
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    public double min() {
        return sorted()[0];
    }

    public double max() {
        return sorted()[values.length - 1];
    }

    /** (max − min) / median: the relative spread. */
    public double spread() {
        double m = median();
        return m == 0 ? 0 : (max() - min()) / m;
    }

    /** The rates {@code numerator / value} of every sample (e.g. tokens / seconds). */
    public Samples rates(double numerator) {
        return new Samples(Arrays.stream(values).map(v -> numerator / v).toArray());
    }

    /** These samples followed by {@code other}'s. */
    public Samples concat(Samples other) {
        double[] v = java.util.Arrays.copyOf(values, values.length + other.values.length);
        System.arraycopy(other.values, 0, v, values.length, other.values.length);
        return new Samples(v);
    }

    private double[] sorted() {
        double[] s = values.clone();
        Arrays.sort(s);
        return s;
    }

    @Override
    public double[] values() {
        return values.clone();
    }
}
