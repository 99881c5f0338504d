package org.lora4j.data.arrow;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Rows of a CSV (or TSV) file with a header line. Column types are inferred over the whole file as pandas
 * does for Hugging Face's {@code load_dataset("csv")}: int64 when every non-empty field is an integer, float64
 * when every one is a number, bool for True/False, else string; empty fields are null.
 */
final class CsvSource extends TextSource {
    private static final Pattern INT = Pattern.compile("[+-]?\\d{1,18}");
    private static final Pattern FLOAT = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private enum Kind { UNSEEN, INT, FLOAT, BOOL, STRING }

    private final char delimiter;
    private List<String> header;
    /** First line of each chunk, for error messages. */
    private final List<Long> lines = new ArrayList<>();

    CsvSource(Path path, char delimiter) {
        super(path);
        this.delimiter = delimiter;
    }

    @Override
    public String format() {
        return delimiter == '\t' ? "tsv" : "csv";
    }

    @Override
    protected Scan scan() throws IOException {
        List<Chunk> chunks = new ArrayList<>();
        Kind[] kinds;
        try (CsvParser p = new CsvParser(openAt(0), path, delimiter, 0, 1)) {
            header = p.next();
            if (header == null) {
                throw new DatasetException(path + ": the CSV file has no header line; the first line must name the columns");
            }
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < header.size(); i++) {
                String name = header.get(i);
                if (name == null || name.isBlank()) {
                    throw new DatasetException(path + " line " + p.recordLine() + ": column " + (i + 1)
                            + " of the header has no name; name every column");
                }
                if (!seen.add(name)) {
                    throw new DatasetException(path + " line " + p.recordLine() + ": the header names column '"
                            + name + "' twice; column names must be unique");
                }
            }
            kinds = new Kind[header.size()];
            java.util.Arrays.fill(kinds, Kind.UNSEEN);
            long rows = 0;
            int inChunk = 0;
            long offset = 0;
            long line = 0;
            List<String> record;
            while ((record = p.next()) != null) {
                checkWidth(record, p.recordLine());
                for (int i = 0; i < record.size(); i++) {
                    kinds[i] = merge(kinds[i], record.get(i));
                }
                if (inChunk == 0) {
                    offset = p.recordOffset();
                    line = p.recordLine();
                }
                rows++;
                if (++inChunk == CHUNK_ROWS) {
                    chunks.add(new Chunk(0, chunks.size(), offset, inChunk, rows - inChunk));
                    lines.add(line);
                    inChunk = 0;
                }
            }
            if (inChunk > 0) {
                chunks.add(new Chunk(0, chunks.size(), offset, inChunk, rows - inChunk));
                lines.add(line);
            }
        }
        List<Field> fields = new ArrayList<>();
        for (int i = 0; i < header.size(); i++) {
            fields.add(new Field(header.get(i), FieldType.nullable(arrowType(kinds[i])), null));
        }
        return new Scan(new Schema(fields), List.copyOf(chunks));
    }

    private void checkWidth(List<String> record, long line) {
        if (record.size() > header.size()) {
            throw new DatasetException(path + " line " + line + ": expected " + header.size()
                    + " fields (as in the header), found " + record.size() + "; quote fields that contain '"
                    + (delimiter == '\t' ? "\\t" : String.valueOf(delimiter)) + "'");
        }
    }

    private static Kind merge(Kind k, String v) {
        if (v == null || k == Kind.STRING) {
            return k;
        }
        boolean isBool = v.equals("True") || v.equals("False") || v.equals("true") || v.equals("false")
                || v.equals("TRUE") || v.equals("FALSE");
        switch (k) {
            case UNSEEN: return isBool ? Kind.BOOL : INT.matcher(v).matches() ? Kind.INT : FLOAT.matcher(v).matches() ? Kind.FLOAT : Kind.STRING;
            case BOOL: return isBool ? Kind.BOOL : Kind.STRING;
            case INT: return INT.matcher(v).matches() ? Kind.INT : FLOAT.matcher(v).matches() ? Kind.FLOAT : Kind.STRING;
            case FLOAT: return FLOAT.matcher(v).matches() ? Kind.FLOAT : Kind.STRING;
            default: return Kind.STRING;
        }
    }

    private static ArrowType arrowType(Kind k) {
        switch (k) {
            case INT: return new ArrowType.Int(64, true);
            case FLOAT: return new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
            case BOOL: return ArrowType.Bool.INSTANCE;
            default: return ArrowType.Utf8.INSTANCE;
        }
    }

    @Override
    protected List<Map<String, Object>> parse(Chunk chunk, InputStream in) throws IOException {
        List<Field> fields = schema().getFields();
        List<Map<String, Object>> rows = new ArrayList<>(chunk.rows());
        try (CsvParser p = new CsvParser(in, path, delimiter, chunk.offset(), lines.get(chunk.ordinal()))) {
            for (int r = 0; r < chunk.rows(); r++) {
                List<String> record = p.next();
                if (record == null) {
                    break;
                }
                checkWidth(record, p.recordLine());
                Map<String, Object> row = new LinkedHashMap<>(fields.size() * 2);
                for (int i = 0; i < fields.size(); i++) {
                    row.put(fields.get(i).getName(), value(i < record.size() ? record.get(i) : null, fields.get(i)));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    private static Object value(String v, Field field) {
        if (v == null) {
            return null;
        }
        switch (field.getType().getTypeID()) {
            case Int: return Long.parseLong(v.startsWith("+") ? v.substring(1) : v);
            case FloatingPoint: return Double.parseDouble(v);
            case Bool: return v.equalsIgnoreCase("true");
            default: return v;
        }
    }
}
