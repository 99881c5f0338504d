package org.lora4j.trainer.recipe;

/**
 * A training recipe: one YAML file mapped onto this tree of records by {@link RecipeLoader} (snake_case keys, one
 * section per component). A missing section gets its {@code DEFAULT}; every section's defaults live in its
 * {@code DEFAULT} constant. Required: {@code model.path} and {@code data.train}.
 */
public record Recipe(ModelSection model, AdapterSection adapter, DataSection data, OptimizerSection optimizer,
                     ScheduleSection schedule, TrainingSection training, CheckpointSection checkpoint,
                     LoggingSection logging) {

    public Recipe {
        model = model == null ? ModelSection.DEFAULT : model;
        adapter = adapter == null ? AdapterSection.DEFAULT : adapter;
        data = data == null ? DataSection.DEFAULT : data;
        optimizer = optimizer == null ? OptimizerSection.DEFAULT : optimizer;
        schedule = schedule == null ? ScheduleSection.DEFAULT : schedule;
        training = training == null ? TrainingSection.DEFAULT : training;
        checkpoint = checkpoint == null ? CheckpointSection.DEFAULT : checkpoint;
        logging = logging == null ? LoggingSection.DEFAULT : logging;
        Require.present("model.path", model.path(), "the Hugging Face model folder to train, e.g."
                + " model: {path: models/smollm2}");
        Require.present("data.train", data.train(), "the training data, e.g. data: {train: data/train.jsonl}");
    }
}
