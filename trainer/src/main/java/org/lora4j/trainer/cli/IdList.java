package org.lora4j.trainer.cli;

import picocli.CommandLine;

/** Parses {@code 1,2,3} into token ids for {@code --prompt-ids}. */
final class IdList implements CommandLine.ITypeConverter<int[]> {
    @Override
    public int[] convert(String value) {
        String[] parts = value.trim().split("\\s*,\\s*");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + parts[i] + "' is not a token id; expected "
                        + "comma-separated integers such as 1,2,3");
            }
            if (ids[i] < 0) {
                throw new CommandLine.TypeConversionException("token ids are >= 0, found " + ids[i]);
            }
        }
        return ids;
    }
}
