package org.lora4j.inference.server;

import java.util.HashMap;
import java.util.Map;
import org.lora4j.adapters.lora.LoraAdapter;
import org.lora4j.adapters.lora.LoraWeights;
import org.lora4j.adapters.merge.LoraMerge;
import org.lora4j.adapters.peft.PeftAdapterFiles;
import org.lora4j.inference.LanguageModel;
import org.lora4j.inference.model.LayerWeights;
import org.lora4j.inference.model.Linear;

/**
 * Folds an adapter into a loaded base, W ← W + s·B·A for every adapted module (LoRA, Hu et al. 2021, section 4.1),
 * so that it runs at the base's speed ({@code serve --merge}). The base's arrays are changed in place: the
 * {@link LanguageModel} then is the merged model and must not be used as the plain base anymore.
 */
final class InPlaceMerge {
    private InPlaceMerge() {
    }

    static void merge(LanguageModel lm, LoraAdapter adapter) {
        PeftAdapterFiles.checkFits(adapter, lm.linearShapes(), lm.dir().toString());
        Map<String, Linear> linears = new HashMap<>();
        for (LayerWeights layer : lm.decoder().weights().layers()) {
            for (Linear lin : layer.linears()) {
                linears.put(lin.name(), lin);
            }
        }
        Linear head = lm.decoder().lmHead();
        linears.put(head.name(), head);
        if (adapter.get(head.name()) != null && lm.config().tieWordEmbeddings()) {
            throw new IllegalArgumentException("the adapter targets lm_head, which this model ties to its input "
                    + "embeddings (tie_word_embeddings=true): merging would change the embeddings too. Serve it "
                    + "unmerged (--adapter NAME=DIR without --merge)");
        }
        for (LoraWeights l : adapter.modules()) {
            LoraMerge.mergeInto(linears.get(l.module()).weight(), l);
        }
    }
}
