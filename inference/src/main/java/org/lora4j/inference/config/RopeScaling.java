package org.lora4j.inference.config;

/**
 * {@code rope_scaling} from config.json. HF computes the rotary inverse frequencies
 * {@code inv_freq[j] = 1 / theta^(2j/d)} and then rescales them per type
 * (transformers/modeling_rope_utils.py).
 */
public sealed interface RopeScaling {

    /** Rescales the default inverse frequencies in place. */
    void apply(double[] invFreq);

    /** No scaling ({@code rope_scaling: null} or {@code rope_type: default}). */
    record None() implements RopeScaling {
        @Override
        public void apply(double[] invFreq) {
        }
    }

    /** Position interpolation: {@code inv_freq / factor}. */
    record Linear(double factor) implements RopeScaling {
        @Override
        public void apply(double[] invFreq) {
            for (int j = 0; j < invFreq.length; j++) {
                invFreq[j] /= factor;
            }
        }
    }

    /**
     * Llama 3.1: wavelengths shorter than {@code original/high_freq_factor} are kept, longer than
     * {@code original/low_freq_factor} are divided by {@code factor}, and the band between is interpolated
     * with {@code smooth = (original/wavelen - low) / (high - low)}.
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings)
            implements RopeScaling {
        @Override
        public void apply(double[] invFreq) {
            double lowFreqWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
            double highFreqWavelen = originalMaxPositionEmbeddings / highFreqFactor;
            for (int j = 0; j < invFreq.length; j++) {
                double f = invFreq[j];
                double wavelen = 2 * Math.PI / f;
                double scaled = wavelen > lowFreqWavelen ? f / factor : f;
                boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
                if (medium) {
                    double smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor)
                            / (highFreqFactor - lowFreqFactor);
                    scaled = (1 - smooth) * scaled / factor + smooth * scaled;
                }
                invFreq[j] = scaled;
            }
        }
    }
}
