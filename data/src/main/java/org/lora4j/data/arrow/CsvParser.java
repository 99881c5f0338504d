package org.lora4j.data.arrow;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A streaming CSV parser after RFC 4180: fields separated by a delimiter, records by CRLF or LF (a lone CR
 * too); a field in double quotes may hold delimiters, line breaks and doubled quotes ({@code ""}). Blank lines
 * are skipped; an empty field is null (as in Hugging Face's {@code load_dataset("csv")}).
 *
 * <p>It works on bytes (delimiters and quotes are ASCII, so UTF-8 multi-byte sequences never contain them) and
 * so knows the byte offset where each record starts, which lets a later parser start there.
 */
final class CsvParser implements Closeable {
    private final InputStream in;
    private final Path path;
    private final byte delimiter;
    private final byte[] buf = new byte[1 << 16];
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private int len;
    private int pos;
    private long offset;           // byte offset of buf[pos] in the file
    private long line;             // 1-based line of buf[pos]
    private long recordOffset;
    private long recordLine;
    private byte[] field = new byte[256];
    private int fieldLen;

    /** {@code in} starts at byte {@code offset} of the file, on line {@code line}; a UTF-8 BOM at byte 0 is skipped. */
    CsvParser(InputStream in, Path path, char delimiter, long offset, long line) throws IOException {
        this.in = in;
        this.path = path;
        this.delimiter = (byte) delimiter;
        this.offset = offset;
        this.line = line;
        if (offset == 0 && peek() == 0xEF) {
            fill();
            if (len - pos >= 3 && buf[pos + 1] == (byte) 0xBB && buf[pos + 2] == (byte) 0xBF) {
                pos += 3;
                this.offset += 3;
            }
        }
    }

    /** Byte offset where the record last returned by {@link #next()} starts. */
    long recordOffset() {
        return recordOffset;
    }

    /** Line (1-based) where the record last returned by {@link #next()} starts. */
    long recordLine() {
        return recordLine;
    }

    /** The next record's fields (null for an empty field), or null at the end of the file. */
    List<String> next() throws IOException {
        int c;
        while ((c = peek()) == '\r' || c == '\n') {
            endOfLine();
        }
        if (c < 0) {
            return null;
        }
        recordOffset = offset;
        recordLine = line;
        List<String> fields = new ArrayList<>();
        while (true) {
            fieldLen = 0;
            c = read();
            if (c == '"') {
                long startLine = line;
                while (true) {
                    c = read();
                    if (c < 0) {
                        throw new DatasetException(path + " line " + startLine + ": a quoted field is never closed "
                                + "(missing '\"'); a quote inside a quoted field is written as two quotes (\"\")");
                    }
                    if (c == '"') {
                        if (peek() != '"') {
                            break;
                        }
                        read();
                    } else if (c == '\n') {
                        line++;
                    }
                    append(c);
                }
                c = read();
            } else {
                while (c >= 0 && c != delimiter && c != '\n' && c != '\r') {
                    append(c);
                    c = read();
                }
            }
            fields.add(fieldLen > 0 ? decode() : null);
            if (c == delimiter) {
                continue;
            }
            if (c == '\r' || c == '\n') {
                unread();
                endOfLine();
            } else if (c >= 0) {
                throw new DatasetException(path + " line " + line + ": unexpected character '" + (char) c
                        + "' after the closing quote of field " + fields.size() + "; quote the whole field and "
                        + "double the quotes inside it");
            }
            return fields;
        }
    }

    private String decode() {
        try {
            return utf8.decode(ByteBuffer.wrap(field, 0, fieldLen)).toString();
        } catch (CharacterCodingException e) {
            throw new DatasetException(path + " line " + line + ": the file is not valid UTF-8; re-save it as UTF-8");
        }
    }

    private void append(int c) {
        if (fieldLen == field.length) {
            field = Arrays.copyOf(field, field.length * 2);
        }
        field[fieldLen++] = (byte) c;
    }

    /** Consumes CRLF, LF or a lone CR. */
    private void endOfLine() throws IOException {
        int c = read();
        if (c == '\r' && peek() == '\n') {
            read();
        }
        line++;
    }

    private int peek() throws IOException {
        if (pos == len && !fill()) {
            return -1;
        }
        return buf[pos] & 0xFF;
    }

    private int read() throws IOException {
        int c = peek();
        if (c >= 0) {
            pos++;
            offset++;
        }
        return c;
    }

    private void unread() {
        pos--;
        offset--;
    }

    private boolean fill() throws IOException {
        if (pos < len) {
            return true;
        }
        len = in.read(buf, 0, buf.length);
        pos = 0;
        if (len <= 0) {
            len = 0;
            return false;
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
