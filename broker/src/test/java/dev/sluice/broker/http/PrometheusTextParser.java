package dev.sluice.broker.http;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format 0.0.4, written from the format's description (not from the
 * code under test): every line must be a HELP, a TYPE or a sample line; samples must follow their family's
 * TYPE line and carry a name that family owns.
 */
final class PrometheusTextParser {
    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE =
            Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(.*)})? (\\S+)");
    private static final Pattern LABEL =
            Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\[\\\\\"n])*)\"(,|$)");

    /** One parsed metric family. */
    record Family(String name, String help, String type, List<Sample> samples) {}

    /** One parsed sample line. */
    record Sample(String name, Map<String, String> labels, double value) {}

    private PrometheusTextParser() {}

    static Map<String, Family> parse(String text) {
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new IllegalArgumentException("the exposition must end with a line feed");
        }
        Map<String, Family> families = new LinkedHashMap<>();
        Map<String, String> helps = new LinkedHashMap<>();
        Family current = null;
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                throw new IllegalArgumentException("empty line");
            }
            Matcher help = HELP.matcher(line);
            Matcher type = TYPE.matcher(line);
            Matcher sample = SAMPLE.matcher(line);
            if (help.matches()) {
                helps.put(help.group(1), unescape(help.group(2), false));
            } else if (type.matches()) {
                if (families.containsKey(type.group(1))) {
                    throw new IllegalArgumentException("second TYPE line for " + type.group(1));
                }
                current = new Family(type.group(1), helps.get(type.group(1)), type.group(2), new ArrayList<>());
                families.put(current.name(), current);
            } else if (sample.matches()) {
                if (current == null || !owns(current, sample.group(1))) {
                    throw new IllegalArgumentException("sample outside its family: " + line);
                }
                current.samples().add(new Sample(sample.group(1), labels(sample.group(3)), value(sample.group(4))));
            } else {
                throw new IllegalArgumentException("malformed line: " + line);
            }
        }
        return families;
    }

    private static boolean owns(Family family, String sampleName) {
        if (family.type().equals("histogram")) {
            return sampleName.equals(family.name() + "_bucket")
                    || sampleName.equals(family.name() + "_sum")
                    || sampleName.equals(family.name() + "_count");
        }
        return sampleName.equals(family.name());
    }

    private static Map<String, String> labels(String text) {
        Map<String, String> labels = new LinkedHashMap<>();
        if (text == null) {
            return labels;
        }
        Matcher matcher = LABEL.matcher(text);
        int position = 0;
        while (position < text.length()) {
            if (!matcher.find(position) || matcher.start() != position) {
                throw new IllegalArgumentException("malformed labels: " + text);
            }
            if (labels.put(matcher.group(1), unescape(matcher.group(2), true)) != null) {
                throw new IllegalArgumentException("repeated label " + matcher.group(1));
            }
            position = matcher.end();
        }
        return labels;
    }

    private static double value(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(text);
        };
    }

    private static String unescape(String text, boolean quotes) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char next = text.charAt(++i);
            switch (next) {
                case '\\' -> out.append('\\');
                case 'n' -> out.append('\n');
                case '"' -> {
                    if (!quotes) {
                        throw new IllegalArgumentException("escaped quote in HELP");
                    }
                    out.append('"');
                }
                default -> throw new IllegalArgumentException("bad escape \\" + next);
            }
        }
        return out.toString();
    }
}
