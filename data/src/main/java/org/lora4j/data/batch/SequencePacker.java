package org.lora4j.data.batch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * Packs tokenized examples into rows of at most {@code maxSeqLen} tokens, best-fit decreasing: longest examples
 * first, each into the open row with the least room that still fits it. Each example keeps its own positions
 * (restarting at 0) and segment id, so with the attention mask no token sees another example. Deterministic.
 */
public final class SequencePacker {
    private SequencePacker() {
    }

    /** Examples as {inputIds, labels} pairs, each at most {@code maxSeqLen} long (truncate first). */
    public static List<Sequence> pack(List<int[][]> examples, int maxSeqLen) {
        Integer[] order = IntStream.range(0, examples.size()).boxed().toArray(Integer[]::new);
        java.util.Arrays.sort(order, Comparator.<Integer>comparingInt(i -> -examples.get(i)[0].length)
                .thenComparingInt(i -> i));
        List<List<Integer>> bins = new ArrayList<>();
        List<Integer> used = new ArrayList<>();
        TreeMap<Integer, List<Integer>> byRoom = new TreeMap<>(); // remaining room -> bins with that room
        for (int idx : order) {
            int len = examples.get(idx)[0].length;
            if (len > maxSeqLen) {
                throw new IllegalArgumentException("example " + idx + " has " + len + " tokens, more than max_seq_len="
                        + maxSeqLen + "; truncate before packing");
            }
            if (len == 0) {
                continue;
            }
            var fit = byRoom.ceilingEntry(len);
            int bin;
            if (fit == null) {
                bin = bins.size();
                bins.add(new ArrayList<>());
                used.add(0);
            } else {
                bin = fit.getValue().remove(fit.getValue().size() - 1);
                if (fit.getValue().isEmpty()) {
                    byRoom.remove(fit.getKey());
                }
            }
            bins.get(bin).add(idx);
            used.set(bin, used.get(bin) + len);
            int room = maxSeqLen - used.get(bin);
            if (room > 0) {
                byRoom.computeIfAbsent(room, k -> new ArrayList<>()).add(bin);
            }
        }
        List<Sequence> out = new ArrayList<>(bins.size());
        for (List<Integer> bin : bins) {
            bin.sort(Integer::compare); // examples in dataset order inside a row
            out.add(concat(bin.stream().map(examples::get).toList()));
        }
        return out;
    }

    /** One row holding {@code parts} back to back. */
    static Sequence concat(List<int[][]> parts) {
        int n = parts.stream().mapToInt(p -> p[0].length).sum();
        int[] ids = new int[n];
        int[] labels = new int[n];
        int[] pos = new int[n];
        int[] seg = new int[n];
        int at = 0;
        for (int s = 0; s < parts.size(); s++) {
            int[] pi = parts.get(s)[0];
            int[] pl = parts.get(s)[1];
            for (int i = 0; i < pi.length; i++) {
                ids[at] = pi[i];
                labels[at] = i == 0 ? Sequence.IGNORE_INDEX : pl[i];
                pos[at] = i;
                seg[at] = s;
                at++;
            }
        }
        return new Sequence(ids, labels, pos, seg);
    }

    /** Real tokens / (rows × max_seq_len). */
    public static double efficiency(List<Sequence> rows, int maxSeqLen) {
        long tokens = rows.stream().mapToLong(Sequence::length).sum();
        return rows.isEmpty() ? 0 : tokens / (double) ((long) rows.size() * maxSeqLen);
    }
}
