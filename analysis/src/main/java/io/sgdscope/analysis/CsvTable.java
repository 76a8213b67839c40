package io.sgdscope.analysis;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.IndexedRecord;

/**
 * One CSV file of records of one Avro schema, with a header row and one column per (nested) field.
 *
 * <p>Encoding, chosen so that pandas ({@code read_csv}) and R ({@code read.csv}) read it without help:
 * RFC 4180 quoting; nested records flattened into columns named {@code outer.inner}; a null
 * (an optional quantity not computed) is an empty cell; doubles are printed so that they read back to
 * the same double ({@link Double#toString}), non-finite ones as {@code NaN}, {@code inf}, {@code -inf};
 * arrays and maps are one cell holding JSON text (Python's {@code json.loads} reads it; non-finite
 * numbers inside as {@code NaN}, {@code Infinity}, {@code -Infinity}, as Python's json module writes them).
 */
public final class CsvTable {

    private final Schema schema;
    private final List<String> header = new ArrayList<>();

    public CsvTable(Schema schema) {
        this.schema = schema;
        collectColumns(schema, "", header);
    }

    public List<String> header() {
        return List.copyOf(header);
    }

    public void writeHeader(Writer out) throws IOException {
        List<String> cells = new ArrayList<>();
        for (String column : header) {
            cells.add(quote(column));
        }
        out.write(String.join(",", cells));
        out.write("\n");
    }

    /** Writes one row; the record must be of this table's schema (by name and fields). */
    public void writeRow(IndexedRecord record, Writer out) throws IOException {
        List<String> cells = new ArrayList<>(header.size());
        collectCells(schema, record, cells);
        out.write(String.join(",", cells));
        out.write("\n");
    }

    private static void collectColumns(Schema schema, String prefix, List<String> columns) {
        for (Schema.Field field : schema.getFields()) {
            Schema type = nonNull(field.schema());
            if (type.getType() == Schema.Type.RECORD) {
                collectColumns(type, prefix + field.name() + ".", columns);
            } else {
                columns.add(prefix + field.name());
            }
        }
    }

    private static void collectCells(Schema schema, IndexedRecord record, List<String> cells) {
        for (Schema.Field field : schema.getFields()) {
            Schema type = nonNull(field.schema());
            Object value = record == null ? null : record.get(field.pos());
            if (type.getType() == Schema.Type.RECORD) {
                collectCells(type, (IndexedRecord) value, cells);
            } else {
                cells.add(value == null ? "" : quote(cell(value)));
            }
        }
    }

    /** The type of an optional field ["null", T] is T; other types are themselves. */
    private static Schema nonNull(Schema schema) {
        if (schema.getType() != Schema.Type.UNION) {
            return schema;
        }
        for (Schema branch : schema.getTypes()) {
            if (branch.getType() != Schema.Type.NULL) {
                return branch;
            }
        }
        return schema;
    }

    static String cell(Object value) {
        if (value instanceof Double d) {
            return number(d);
        }
        if (value instanceof Float f) {
            return number(f.doubleValue());
        }
        if (value instanceof Collection<?> || value instanceof Map<?, ?>) {
            StringBuilder json = new StringBuilder();
            json(value, json);
            return json.toString();
        }
        if (value instanceof GenericContainer container) {
            return container.toString();
        }
        return String.valueOf(value);
    }

    static String number(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "inf" : "-inf";
        }
        return Double.toString(value);
    }

    private static void json(Object value, StringBuilder out) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            out.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : Double.toString(d));
        } else if (value instanceof Number || value instanceof Boolean) {
            out.append(value);
        } else if (value instanceof Collection<?> items) {
            out.append('[');
            boolean first = true;
            for (Object item : items) {
                if (!first) {
                    out.append(", ");
                }
                first = false;
                json(item, out);
            }
            out.append(']');
        } else if (value instanceof Map<?, ?> map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> entry : new java.util.TreeMap<>(map).entrySet()) {
                if (!first) {
                    out.append(", ");
                }
                first = false;
                jsonString(String.valueOf(entry.getKey()), out);
                out.append(": ");
                json(entry.getValue(), out);
            }
            out.append('}');
        } else {
            jsonString(String.valueOf(value), out);
        }
    }

    private static void jsonString(String text, StringBuilder out) {
        out.append('"');
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** RFC 4180: a cell with a comma, a quote or a line break is quoted, quotes doubled. */
    static String quote(String text) {
        if (text.indexOf(',') < 0 && text.indexOf('"') < 0 && text.indexOf('\n') < 0 && text.indexOf('\r') < 0) {
            return text;
        }
        return '"' + text.replace("\"", "\"\"") + '"';
    }
}
