package dev.sluice.chaos.report;

import dev.sluice.chaos.history.History;
import dev.sluice.chaos.history.NemesisEvent;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;

/**
 * Draws {@code timeline.png}: acknowledged sends per second (top panel) and the p50/p99 latency of
 * acknowledged sends on a logarithmic scale (bottom panel) over the run's time, with a shaded band per nemesis
 * event from its start to its heal (to the end of the run if never healed) labelled with its kind, and a
 * legend. Plain Java2D into an image; works on a headless JVM with the JDK's logical fonts. Stateless.
 */
final class TimelineChart {
    static final int WIDTH = 1200;
    static final int HEIGHT = 700;
    private static final int MAX_POINTS = 600;
    static final int LEFT = 80;
    static final int RIGHT = WIDTH - 210;
    static final int TOP_PANEL_TOP = 50;
    static final int TOP_PANEL_BOTTOM = 330;
    private static final int BOTTOM_PANEL_TOP = 375;
    private static final int BOTTOM_PANEL_BOTTOM = 640;
    private static final Color THROUGHPUT = new Color(0x1f77b4);
    private static final Color P50 = new Color(0x2ca02c);
    private static final Color P99 = new Color(0xd62728);
    private static final Color[] BANDS = {
        new Color(255, 127, 14, 60), new Color(148, 103, 189, 60), new Color(140, 86, 75, 60),
        new Color(227, 119, 194, 60), new Color(127, 127, 127, 60), new Color(188, 189, 34, 60),
        new Color(23, 190, 207, 60), new Color(255, 187, 120, 60)
    };
    private static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final Font SMALL = new Font(Font.SANS_SERIF, Font.PLAIN, 10);
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 14);

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private TimelineChart() {}

    static void write(Path file, History history, String title) throws IOException {
        if (!ImageIO.write(draw(history, title), "png", file.toFile())) {
            throw new IOException("no PNG writer for " + file);
        }
    }

    static BufferedImage draw(History history, String title) {
        long span = Timeline.spanNs(history);
        Timeline timeline = Timeline.of(history, Timeline.bucketNs(span, MAX_POINTS));
        double spanSeconds = Math.max(1, Math.ceil(timeline.buckets().size() * timeline.bucketNs() / 1e9));
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            g.setColor(Color.BLACK);
            g.setFont(TITLE);
            g.drawString(title, LEFT, 28);
            Map<String, Color> kinds = bands(g, history.nemesis(), span, spanSeconds);
            throughputPanel(g, timeline, spanSeconds);
            latencyPanel(g, timeline, spanSeconds);
            timeAxis(g, spanSeconds);
            legend(g, kinds);
            if (timeline.buckets().isEmpty()) {
                g.setFont(FONT);
                g.setColor(Color.GRAY);
                g.drawString("no sends recorded", (LEFT + RIGHT) / 2 - 50, (TOP_PANEL_TOP + TOP_PANEL_BOTTOM) / 2);
            }
        } finally {
            g.dispose();
        }
        return image;
    }

    private static Map<String, Color> bands(Graphics2D g, List<NemesisEvent> events, long spanNs, double spanSeconds) {
        Map<String, Color> kinds = new LinkedHashMap<>();
        g.setFont(SMALL);
        int n = 0;
        for (NemesisEvent event : events) {
            Color color = kinds.computeIfAbsent(event.kind(), k -> BANDS[kinds.size() % BANDS.length]);
            int x0 = x(event.startNs() / 1e9, spanSeconds);
            int x1 = Math.max(x0 + 2, x(Timeline.endNs(event, spanNs) / 1e9, spanSeconds));
            g.setColor(color);
            g.fillRect(x0, TOP_PANEL_TOP, x1 - x0, TOP_PANEL_BOTTOM - TOP_PANEL_TOP);
            g.fillRect(x0, BOTTOM_PANEL_TOP, x1 - x0, BOTTOM_PANEL_BOTTOM - BOTTOM_PANEL_TOP);
            g.setColor(new Color(color.getRed(), color.getGreen(), color.getBlue()).darker()); // opaque
            g.drawString(event.kind(), x0 + 2, TOP_PANEL_TOP + 12 + 12 * (n++ % 3));
        }
        return kinds;
    }

    private static void throughputPanel(Graphics2D g, Timeline timeline, double spanSeconds) {
        double max = 0;
        for (Timeline.Bucket b : timeline.buckets()) {
            max = Math.max(max, b.ackedPerSecond());
        }
        double step = niceStep(Math.max(max, 1) / 5);
        double top = Math.max(step, Math.ceil(Math.max(max, 1) / step) * step);
        frame(g, TOP_PANEL_TOP, TOP_PANEL_BOTTOM, "acknowledged sends/s");
        g.setFont(FONT);
        for (double v = 0; v <= top + step / 2; v += step) {
            int y = linearY(v, top, TOP_PANEL_TOP, TOP_PANEL_BOTTOM);
            yTick(g, y, format(v));
        }
        series(
                g,
                timeline,
                spanSeconds,
                THROUGHPUT,
                Timeline.Bucket::ackedPerSecond,
                v -> linearY(v, top, TOP_PANEL_TOP, TOP_PANEL_BOTTOM));
    }

    private static void latencyPanel(Graphics2D g, Timeline timeline, double spanSeconds) {
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (Timeline.Bucket b : timeline.buckets()) {
            if (!Double.isNaN(b.p50Ms()) && b.p50Ms() > 0) {
                min = Math.min(min, b.p50Ms());
            }
            if (!Double.isNaN(b.p99Ms())) {
                max = Math.max(max, b.p99Ms());
            }
        }
        int lowExp = min == Double.POSITIVE_INFINITY ? 0 : (int) Math.floor(Math.log10(min));
        int highExp = Math.max(lowExp + 1, max <= 0 ? 3 : (int) Math.ceil(Math.log10(max)));
        frame(g, BOTTOM_PANEL_TOP, BOTTOM_PANEL_BOTTOM, "send latency ms (log scale)");
        g.setFont(FONT);
        for (int e = lowExp; e <= highExp; e++) {
            yTick(g, logY(Math.pow(10, e), lowExp, highExp), format(Math.pow(10, e)));
        }
        series(g, timeline, spanSeconds, P50, Timeline.Bucket::p50Ms, v -> logY(v, lowExp, highExp));
        series(g, timeline, spanSeconds, P99, Timeline.Bucket::p99Ms, v -> logY(v, lowExp, highExp));
    }

    private interface YScale {
        int y(double value);
    }

    private static void series(
            Graphics2D g,
            Timeline timeline,
            double spanSeconds,
            Color color,
            ToDoubleFunction<Timeline.Bucket> value,
            YScale scale) {
        Path2D.Double path = new Path2D.Double();
        boolean drawing = false;
        for (Timeline.Bucket b : timeline.buckets()) {
            double v = value.applyAsDouble(b);
            if (Double.isNaN(v)) {
                drawing = false;
                continue;
            }
            double mid = (b.startNs() + b.endNs()) / 2e9;
            int x = x(mid, spanSeconds);
            int y = scale.y(v);
            if (drawing) {
                path.lineTo(x, y);
            } else {
                path.moveTo(x, y);
                drawing = true;
            }
        }
        Stroke previous = g.getStroke();
        g.setStroke(new BasicStroke(1.5f));
        g.setColor(color);
        g.draw(path);
        g.setStroke(previous);
    }

    private static void frame(Graphics2D g, int top, int bottom, String label) {
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, top, RIGHT - LEFT, bottom - top);
        g.setFont(FONT);
        g.drawString(label, LEFT, top - 6);
    }

    private static void yTick(Graphics2D g, int y, String label) {
        g.setColor(new Color(230, 230, 230));
        g.drawLine(LEFT + 1, y, RIGHT - 1, y);
        g.setColor(Color.BLACK);
        g.drawLine(LEFT - 5, y, LEFT, y);
        int width = g.getFontMetrics().stringWidth(label);
        g.drawString(label, LEFT - 8 - width, y + 4);
    }

    private static void timeAxis(Graphics2D g, double spanSeconds) {
        g.setFont(FONT);
        g.setColor(Color.BLACK);
        double step = niceStep(spanSeconds / 10);
        for (double t = 0; t <= spanSeconds + step / 2; t += step) {
            int x = x(t, spanSeconds);
            g.drawLine(x, TOP_PANEL_BOTTOM, x, TOP_PANEL_BOTTOM + 5);
            g.drawLine(x, BOTTOM_PANEL_BOTTOM, x, BOTTOM_PANEL_BOTTOM + 5);
            String label = format(t);
            g.drawString(label, x - g.getFontMetrics().stringWidth(label) / 2, BOTTOM_PANEL_BOTTOM + 20);
        }
        g.drawString("time since the run started (s)", (LEFT + RIGHT) / 2 - 80, BOTTOM_PANEL_BOTTOM + 45);
    }

    private static void legend(Graphics2D g, Map<String, Color> kinds) {
        int x = RIGHT + 20;
        int y = TOP_PANEL_TOP + 10;
        g.setFont(FONT);
        y = legendLine(g, x, y, THROUGHPUT, "acked sends/s");
        y = legendLine(g, x, y, P50, "latency p50");
        y = legendLine(g, x, y, P99, "latency p99");
        y += 10;
        g.setColor(Color.BLACK);
        g.drawString(kinds.isEmpty() ? "no faults" : "faults:", x, y);
        y += 8;
        for (Map.Entry<String, Color> kind : kinds.entrySet()) {
            g.setColor(kind.getValue());
            g.fillRect(x, y, 24, 12);
            g.setColor(Color.BLACK);
            g.drawRect(x, y, 24, 12);
            g.drawString(kind.getKey(), x + 32, y + 11);
            y += 20;
        }
    }

    private static int legendLine(Graphics2D g, int x, int y, Color color, String label) {
        g.setColor(color);
        g.setStroke(new BasicStroke(2f));
        g.drawLine(x, y, x + 24, y);
        g.setStroke(new BasicStroke(1f));
        g.setColor(Color.BLACK);
        g.drawString(label, x + 32, y + 4);
        return y + 20;
    }

    private static int x(double seconds, double spanSeconds) {
        return LEFT + (int) Math.round((RIGHT - LEFT) * Math.min(1, Math.max(0, seconds / spanSeconds)));
    }

    private static int linearY(double value, double top, int panelTop, int panelBottom) {
        return panelBottom - (int) Math.round((panelBottom - panelTop) * Math.min(1, Math.max(0, value / top)));
    }

    private static int logY(double valueMs, int lowExp, int highExp) {
        double clamped = Math.max(Math.pow(10, lowExp), Math.min(Math.pow(10, highExp), valueMs));
        double fraction = (Math.log10(clamped) - lowExp) / (highExp - lowExp);
        return BOTTOM_PANEL_BOTTOM - (int) Math.round((BOTTOM_PANEL_BOTTOM - BOTTOM_PANEL_TOP) * fraction);
    }

    /** @return 1, 2 or 5 times a power of ten, at least {@code rough} */
    static double niceStep(double rough) {
        if (!(rough > 0)) {
            return 1;
        }
        double power = Math.pow(10, Math.floor(Math.log10(rough)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * power >= rough) {
                return m * power;
            }
        }
        return 10 * power;
    }

    private static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.3g", v);
    }
}
