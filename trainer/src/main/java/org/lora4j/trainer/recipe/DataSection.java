package org.lora4j.trainer.recipe;

/**
 * {@code data:} the training data. A plain record: the data module interprets the strings.
 *
 * @param train           training data (a file or a dataset folder); required
 * @param validation      validation data; null = none, or a split of train (validationSplit)
 * @param validationSplit the fraction of train held out for validation when {@code validation} is null, in [0, 1)
 * @param format          how to read the examples ({@code auto} detects it)
 * @param maxSeqLen       tokens per sequence; longer examples are truncated
 * @param pack            pack several examples into one sequence
 * @param trainOn         which tokens carry the loss (e.g. {@code completion}, {@code all})
 * @param textField       the field holding plain text, for text datasets; null = the format's default
 */
public record DataSection(String train, String validation, double validationSplit, String format, int maxSeqLen,
                          boolean pack, String trainOn, String textField) {

    public static final DataSection DEFAULT = new DataSection(null, null, 0.0, "auto", 512, false, "completion", null);

    public DataSection {
        Require.inHalfOpen("data.validation_split", validationSplit, 0, 1);
        if (validation != null && validationSplit > 0) {
            throw new RecipeException("data.validation_split", "give data.validation or data.validation_split, not"
                    + " both (found validation '" + validation + "' and validation_split " + validationSplit + ")");
        }
        Require.present("data.format", format, "e.g. auto");
        Require.atLeast("data.max_seq_len", maxSeqLen, 1);
        Require.present("data.train_on", trainOn, "e.g. completion");
    }
}
