package ai.coopt.report;

import ai.coopt.UserException;
import ai.coopt.eval.LearningCurve;
import ai.coopt.store.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * PNG charts of training runs, drawn off-screen (AWT runs headless, so no display is needed). Each PNG is
 * written atomically: to a temporary file in the same directory that is renamed into place when complete.
 */
public final class Plots {
    /** Width of every chart in pixels. */
    public static final int WIDTH = 1000;
    /** Height of every chart in pixels. */
    public static final int HEIGHT = 600;

    /** A series with more points than this is drawn as a bare line; shorter ones get markers. */
    private static final int MARKER_LIMIT = 60;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** One run's learning curve as it appears in {@link #curvesPlot}: the legend label and its points. */
    public record Curve(String label, List<LearningCurve.Point> points) {
        public Curve {
            points = List.copyOf(points);
        }
    }

    private Plots() {}

    /**
     * Training loss against training wall time, one series per phase in the order the phases first appear (so
     * a ReLA-to-BYOL hand-off shows as a change of colour). The title is the run's name: the name of the folder
     * holding {@code metricsJsonl}. Entries whose loss is not finite are left out.
     *
     * @throws UserException when the log cannot be read, has no finite loss, or the PNG cannot be written
     */
    public static void lossPlot(Path metricsJsonl, Path png) {
        List<MetricsLog.Entry> entries = MetricsLog.read(metricsJsonl);
        Map<String, List<double[]>> phases = new LinkedHashMap<>();
        for (MetricsLog.Entry e : entries) {
            if (Double.isFinite(e.loss()) && Double.isFinite(e.time())) {
                phases.computeIfAbsent(e.phase(), p -> new ArrayList<>()).add(new double[] {e.time(), e.loss()});
            }
        }
        if (phases.isEmpty()) {
            throw new UserException(metricsJsonl + ": no entries with a finite loss to plot");
        }
        Path parent = metricsJsonl.toAbsolutePath().normalize().getParent();
        String run = parent == null || parent.getFileName() == null ? metricsJsonl.toString() : parent.getFileName().toString();
        XYChart chart = chart(run, "training time (s)", "training loss");
        for (Map.Entry<String, List<double[]>> phase : phases.entrySet()) {
            List<double[]> xy = phase.getValue();
            XYSeries series = chart.addSeries(phase.getKey(), column(xy, 0), column(xy, 1));
            if (xy.size() > MARKER_LIMIT) {
                series.setMarker(SeriesMarkers.NONE);
            }
        }
        save(chart, png);
    }

    /**
     * Linear-probe top-1 (in percent) against training wall time, one line with markers per run, the runs named
     * in the legend: which method got where, when. Repeated labels get a number appended to stay apart.
     *
     * @throws IllegalArgumentException when there is no curve or a curve has no points
     * @throws UserException when the PNG cannot be written
     */
    public static void curvesPlot(List<Curve> curves, Path png) {
        if (curves.isEmpty()) {
            throw new IllegalArgumentException("no curves to plot");
        }
        XYChart chart = chart("Linear-probe top-1 over training time", "training time (s)", "linear-probe top-1 (%)");
        chart.getStyler().setYAxisDecimalPattern("0.0");
        Set<String> used = new HashSet<>();
        for (Curve c : curves) {
            if (c.points().isEmpty()) {
                throw new IllegalArgumentException("curve '" + c.label() + "' has no points");
            }
            double[] seconds = c.points().stream().mapToDouble(LearningCurve.Point::seconds).toArray();
            double[] top1 = c.points().stream().mapToDouble(p -> 100 * p.top1()).toArray();
            chart.addSeries(unique(c.label(), used), seconds, top1);
        }
        if (curves.size() > 4) {
            // a horizontal legend below the plot runs off the image beyond a few runs: list them at the side
            chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE).setLegendLayout(Styler.LegendLayout.Vertical);
        }
        save(chart, png);
    }

    /**
     * A 2-D target map as a scatter plot, one colour per participant, the legend naming each
     * participant's prior.
     *
     * @throws IllegalArgumentException when a participant index has no name
     * @throws UserException when the PNG cannot be written
     */
    public static void mapPlot(TargetMap map, List<String> participants, Path png) {
        XYChart chart = chart(map.title(), "t-SNE 1", "t-SNE 2");
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(5);
        chart.getStyler().setXAxisTicksVisible(false);
        chart.getStyler().setYAxisTicksVisible(false);
        Map<Integer, List<double[]>> byParticipant = new LinkedHashMap<>();
        for (int i = 0; i < map.points().length; i++) {
            byParticipant.computeIfAbsent(map.participant()[i], k -> new ArrayList<>()).add(map.points()[i]);
        }
        Set<String> used = new HashSet<>();
        for (var e : new TreeMap<>(byParticipant).entrySet()) {
            if (e.getKey() >= participants.size()) {
                throw new IllegalArgumentException("participant " + e.getKey() + " has no name");
            }
            List<double[]> xy = e.getValue();
            chart.addSeries(unique(e.getKey() + ": " + participants.get(e.getKey()), used), column(xy, 0), column(xy, 1))
                    .setMarker(SeriesMarkers.CIRCLE);
        }
        save(chart, png);
    }

    /** One kind of event on a timeline: its points are (seconds, lane index). */
    public record Events(String kind, List<double[]> points) {}

    /**
     * A timeline: one horizontal lane per participant (y), events as markers at their time (x), one series per kind
     * of event (lease taken, upload accepted, …).
     */
    public static void timelinePlot(String title, List<String> lanes, List<Events> events, Path png) {
        StringBuilder axis = new StringBuilder("lane: ");
        for (int i = 0; i < lanes.size(); i++) {
            axis.append(i == 0 ? "" : ", ").append(i).append(" = ").append(lanes.get(i));
        }
        XYChart chart = chart(title, "seconds since the round started", axis.toString());
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(9);
        chart.getStyler().setYAxisMin(-0.5).setYAxisMax(lanes.size() - 0.5);
        Set<String> used = new HashSet<>();
        for (Events e : events) {
            if (!e.points().isEmpty()) {
                chart.addSeries(unique(e.kind(), used), column(e.points(), 0), column(e.points(), 1));
            }
        }
        save(chart, png);
    }

    /**
     * Student probe top-1 (in percent) per round of continuous optimization, with markers, the rounds on the x axis.
     *
     * @throws IllegalArgumentException when there are no rounds or the arrays differ in length
     */
    public static void roundsPlot(int[] rounds, double[] top1, Path png) {
        if (rounds.length == 0 || rounds.length != top1.length) {
            throw new IllegalArgumentException(rounds.length + " rounds for " + top1.length + " accuracies");
        }
        XYChart chart = chart("Student linear-probe top-1 per round", "round", "linear-probe top-1 (%)");
        chart.getStyler().setYAxisDecimalPattern("0.0").setXAxisDecimalPattern("0");
        chart.addSeries("student of each round", java.util.Arrays.stream(rounds).asDoubleStream().toArray(),
                java.util.Arrays.stream(top1).map(v -> 100 * v).toArray()).setMarker(SeriesMarkers.CIRCLE);
        save(chart, png);
    }

    private static XYChart chart(String title, String xTitle, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler()
                .setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line)
                .setLegendPosition(Styler.LegendPosition.OutsideS)
                .setLegendLayout(Styler.LegendLayout.Horizontal)
                .setChartBackgroundColor(Color.WHITE)
                .setPlotBackgroundColor(Color.WHITE);
        return chart;
    }

    private static String unique(String label, Set<String> used) {
        String name = label;
        for (int n = 2; !used.add(name); n++) {
            name = label + " (" + n + ")";
        }
        return name;
    }

    private static double[] column(List<double[]> rows, int j) {
        return rows.stream().mapToDouble(r -> r[j]).toArray();
    }

    private static void save(XYChart chart, Path png) {
        byte[] bytes;
        try {
            bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding a chart as PNG in memory failed", e);
        }
        AtomicFiles.writeBytes(png, bytes);
    }
}
