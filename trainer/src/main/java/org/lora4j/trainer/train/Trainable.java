package org.lora4j.trainer.train;

import java.nio.file.Path;
import java.util.List;
import org.lora4j.adapters.Parameter;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.inference.model.BaseParameters;
import org.lora4j.inference.model.Decoder;
import org.lora4j.inference.model.Dropout;
import org.lora4j.inference.model.ForwardContext;
import org.lora4j.inference.model.ModelWriter;
import org.lora4j.inference.model.WeightLoader;

/** What a run trains — a LoRA adapter over a frozen base, or every base weight — and how it is saved and restored. */
public sealed interface Trainable {
    List<Parameter> parameters();

    /** The context of one training micro-batch ({@code dropout} may be null). */
    ForwardContext trainingContext(Dropout dropout);

    /** The context for evaluation (no dropout, no gradients needed). */
    ForwardContext evalContext();

    /** The folder name inside a checkpoint or the run folder: {@code adapter} or {@code model}. */
    String savedName();

    void save(Path dir);

    /** Restores the trained values saved by {@link #save} into this run's arrays. */
    void restore(Path dir);

    /** LoRA: PEFT adapter files. */
    record Lora(LoraAdapter adapter) implements Trainable {
        @Override
        public List<Parameter> parameters() {
            return adapter.parameters();
        }

        @Override
        public ForwardContext trainingContext(Dropout dropout) {
            return new ForwardContext(adapter::get, dropout);
        }

        @Override
        public ForwardContext evalContext() {
            return ForwardContext.withAdapter(adapter::get);
        }

        @Override
        public String savedName() {
            return "adapter";
        }

        @Override
        public void save(Path dir) {
            PeftAdapterFiles.save(dir, adapter);
        }

        @Override
        public void restore(Path dir) {
            LoraAdapter saved = PeftAdapterFiles.load(dir, adapter.modules().iterator().next().a().dataType(), w -> { });
            for (var m : adapter.modules()) {
                var from = saved.get(m.module());
                if (from == null) {
                    throw new IllegalArgumentException(dir + " has no LoRA weights for " + m.module()
                            + "; it was written by a run with other target modules");
                }
                m.a().assign(from.a());
                m.b().assign(from.b());
            }
        }
    }

    /** Full-parameter training: a complete HF model folder (FP32). */
    record Full(Decoder decoder, BaseParameters base, Path sourceDir) implements Trainable {
        @Override
        public List<Parameter> parameters() {
            return base.parameters();
        }

        @Override
        public ForwardContext trainingContext(Dropout dropout) {
            return base.context();
        }

        @Override
        public ForwardContext evalContext() {
            return ForwardContext.BASE;
        }

        @Override
        public String savedName() {
            return "model";
        }

        @Override
        public void save(Path dir) {
            ModelWriter.save(dir, decoder.weights(), sourceDir);
        }

        @Override
        public void restore(Path dir) {
            var saved = WeightLoader.load(dir, decoder.weights().dataType());
            var from = BaseParameters.tensors(saved);
            BaseParameters.tensors(decoder.weights()).forEach((name, value) -> value.assign(from.get(name)));
        }
    }
}
