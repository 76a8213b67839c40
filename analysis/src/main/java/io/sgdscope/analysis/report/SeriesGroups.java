package io.sgdscope.analysis.report;

import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.util.Map;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemSource;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.block.Block;
import org.jfree.chart.block.RectangleConstraint;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CrosshairState;
import org.jfree.chart.plot.PlotRenderingInfo;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BoxAndWhiskerRenderer;
import org.jfree.chart.renderer.category.CategoryItemRendererState;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYItemRendererState;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.Size2D;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.xy.XYDataset;
import org.jfree.svg.SVGHints;

/**
 * Names the series in the figures' SVG: what a renderer draws for a series goes into
 * {@code <g data-series='key'>} and each legend entry into {@code <g data-legend='key'>}, with the same
 * key, so that a reader of the SVG (the report's test) can pair every legend entry with its drawn
 * series. Colours cannot pair them: the two bands of Fig. 8 share one line colour.
 */
final class SeriesGroups {

    private SeriesGroups() {}

    static void begin(Graphics2D g2, String attribute, Comparable<?> key) {
        g2.setRenderingHint(SVGHints.KEY_BEGIN_GROUP, Map.of(attribute, String.valueOf(key)));
    }

    static void end(Graphics2D g2) {
        g2.setRenderingHint(SVGHints.KEY_END_GROUP, Boolean.TRUE);
    }

    /** XYPlot draws a series item by item in each pass: one group from its first to its last item. */
    private static void drawXY(Graphics2D g2, XYItemRendererState state, XYDataset dataset, int series, int item, Runnable draw) {
        if (item == state.getFirstItemIndex()) {
            begin(g2, "data-series", dataset.getSeriesKey(series));
        }
        draw.run();
        if (item == state.getLastItemIndex()) {
            end(g2);
        }
    }

    /** Fig. 8's bands (p10-p90, p25-p75) and median line. */
    static final class Bands extends DeviationRenderer {
        Bands() {
            super(true, false);
        }

        @Override
        public void drawItem(Graphics2D g2, XYItemRendererState state, Rectangle2D dataArea, PlotRenderingInfo info, XYPlot plot,
                             ValueAxis domainAxis, ValueAxis rangeAxis, XYDataset dataset, int series, int item,
                             CrosshairState crosshairState, int pass) {
            drawXY(g2, state, dataset, series, item, () -> super.drawItem(g2, state, dataArea, info, plot, domainAxis, rangeAxis,
                    dataset, series, item, crosshairState, pass));
        }
    }

    /** Lines without shapes (Fig. 10, Fig. 2). */
    static final class Lines extends XYLineAndShapeRenderer {
        Lines() {
            super(true, false);
        }

        @Override
        public void drawItem(Graphics2D g2, XYItemRendererState state, Rectangle2D dataArea, PlotRenderingInfo info, XYPlot plot,
                             ValueAxis domainAxis, ValueAxis rangeAxis, XYDataset dataset, int series, int item,
                             CrosshairState crosshairState, int pass) {
            drawXY(g2, state, dataset, series, item, () -> super.drawItem(g2, state, dataArea, info, plot, domainAxis, rangeAxis,
                    dataset, series, item, crosshairState, pass));
        }
    }

    /** Histogram bars (Fig. 1, Fig. 11). */
    static final class Bars extends XYBarRenderer {
        @Override
        public void drawItem(Graphics2D g2, XYItemRendererState state, Rectangle2D dataArea, PlotRenderingInfo info, XYPlot plot,
                             ValueAxis domainAxis, ValueAxis rangeAxis, XYDataset dataset, int series, int item,
                             CrosshairState crosshairState, int pass) {
            drawXY(g2, state, dataset, series, item, () -> super.drawItem(g2, state, dataArea, info, plot, domainAxis, rangeAxis,
                    dataset, series, item, crosshairState, pass));
        }
    }

    /** Box plots (Fig. 9): CategoryPlot draws box by box, so one group per box. */
    static final class Boxes extends BoxAndWhiskerRenderer {
        @Override
        public void drawItem(Graphics2D g2, CategoryItemRendererState state, Rectangle2D dataArea, CategoryPlot plot,
                             CategoryAxis domainAxis, ValueAxis rangeAxis, CategoryDataset dataset, int row, int column, int pass) {
            begin(g2, "data-series", dataset.getRowKey(row));
            super.drawItem(g2, state, dataArea, plot, domainAxis, rangeAxis, dataset, row, column, pass);
            end(g2);
        }
    }

    /** A legend whose entries each sit in {@code <g data-legend='series key'>}. */
    static final class Legend extends LegendTitle {
        Legend(LegendItemSource source) {
            super(source);
        }

        @Override
        protected Block createLegendItemBlock(LegendItem item) {
            return new Entry(super.createLegendItemBlock(item), item.getSeriesKey());
        }
    }

    /** A legend entry as JFreeChart builds it, drawn inside a group. */
    private static final class Entry implements Block {
        private final Block block;
        private final Comparable<?> key;

        Entry(Block block, Comparable<?> key) {
            this.block = block;
            this.key = key;
        }

        @Override
        public Object draw(Graphics2D g2, Rectangle2D area, Object params) {
            begin(g2, "data-legend", key);
            Object result = block.draw(g2, area, params);
            end(g2);
            return result;
        }

        @Override
        public void draw(Graphics2D g2, Rectangle2D area) {
            draw(g2, area, null);
        }

        @Override
        public String getID() {
            return block.getID();
        }

        @Override
        public void setID(String id) {
            block.setID(id);
        }

        @Override
        public Size2D arrange(Graphics2D g2) {
            return block.arrange(g2);
        }

        @Override
        public Size2D arrange(Graphics2D g2, RectangleConstraint constraint) {
            return block.arrange(g2, constraint);
        }

        @Override
        public Rectangle2D getBounds() {
            return block.getBounds();
        }

        @Override
        public void setBounds(Rectangle2D bounds) {
            block.setBounds(bounds);
        }
    }
}
