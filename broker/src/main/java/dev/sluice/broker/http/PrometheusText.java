package dev.sluice.broker.http;

/** Escaping and number formatting of the Prometheus text exposition format 0.0.4. Stateless. */
final class PrometheusText {
    /** The content type of the exposition. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final double LARGEST_EXACT_INTEGER = 9.007199254740992E15; // 2^53

    private PrometheusText() {}

    /** HELP text: backslash and line feed are escaped. */
    static void appendEscapedHelp(StringBuilder out, String help) {
        for (int i = 0; i < help.length(); i++) {
            char c = help.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    /** Label values: backslash, double quote and line feed are escaped. */
    static void appendEscapedLabelValue(StringBuilder out, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    /** A sample value or bucket bound: integers without a fraction, {@code +Inf}, {@code -Inf}, {@code NaN}. */
    static String formatDouble(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        if (value == Math.rint(value) && Math.abs(value) < LARGEST_EXACT_INTEGER) {
            return Long.toString((long) value);
        }
        return Double.toString(value);
    }
}
