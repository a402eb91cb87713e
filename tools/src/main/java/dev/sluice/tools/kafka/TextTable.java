package dev.sluice.tools.kafka;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An aligned plain-text table: a header row and data rows, each column as wide as its widest cell,
 * columns two spaces apart, no trailing spaces. Not thread-safe.
 */
public final class TextTable {
    private final List<String[]> rows = new ArrayList<>();
    private final int columns;
    private final String indent;

    /** A table with these column headings, each line prefixed by {@code indent}. */
    public TextTable(String indent, String... headings) {
        this.indent = indent;
        this.columns = headings.length;
        rows.add(headings.clone());
    }

    /** Adds a row; {@code null} cells print as {@code -}. */
    public TextTable add(Object... cells) {
        if (cells.length != columns) {
            throw new IllegalArgumentException("expected " + columns + " cells, got " + Arrays.toString(cells));
        }
        String[] row = new String[columns];
        for (int i = 0; i < columns; i++) {
            row[i] = cells[i] == null ? "-" : cells[i].toString();
        }
        rows.add(row);
        return this;
    }

    /** The number of data rows (without the heading). */
    public int size() {
        return rows.size() - 1;
    }

    /** The table's lines, heading first. */
    public List<String> lines() {
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < columns; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        List<String> lines = new ArrayList<>(rows.size());
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder(indent);
            for (int i = 0; i < columns; i++) {
                line.append(row[i]);
                if (i < columns - 1) {
                    line.append(" ".repeat(widths[i] - row[i].length() + 2));
                }
            }
            lines.add(line.toString().stripTrailing());
        }
        return lines;
    }
}
