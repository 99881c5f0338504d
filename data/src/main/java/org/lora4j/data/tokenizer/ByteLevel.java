package org.lora4j.data.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2 byte-level alphabet and pre-tokenizer, as in OpenAI's {@code encoder.py} ({@code bytes_to_unicode})
 * and Hugging Face tokenizers' {@code ByteLevel} pre-tokenizer with {@code use_regex=true}.
 *
 * <p>Every byte 0..255 maps to one printable code point: the 188 printable Latin-1 bytes
 * ({@code '!'..'~', '¡'..'¬', '®'..'ÿ'}) map to themselves, the other 68 (controls, space, 0x7F-0xA0, 0xAD)
 * map to U+0100 + n in byte order, so space becomes {@code 'Ġ'} (U+0120) and newline {@code 'Ċ'} (U+010A).
 * No mapped character is whitespace, so a merge "left right" can be written with a space separator.
 */
final class ByteLevel {
    /** GPT-2's split pattern: contractions, letters, digits, other symbols, each with an optional leading space. */
    static final Pattern GPT2_SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private static final char[] BYTE_TO_CHAR = buildByteToChar();

    private ByteLevel() {}

    private static char[] buildByteToChar() {
        char[] map = new char[256];
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++) {
            map[b] = printable[b] ? (char) b : (char) (256 + n++);
        }
        return map;
    }

    /** The byte-level character standing for byte {@code b} (0..255). */
    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** UTF-8 bytes of {@code text}, each replaced by its byte-level character. */
    static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) sb.append(BYTE_TO_CHAR[b & 0xFF]);
        return sb.toString();
    }

    /** Splits {@code text} into pre-tokens with the GPT-2 pattern (before byte mapping). */
    static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = GPT2_SPLIT.matcher(text);
        while (m.find()) out.add(m.group());
        return out;
    }
}
