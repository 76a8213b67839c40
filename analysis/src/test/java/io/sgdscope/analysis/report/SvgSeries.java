package io.sgdscope.analysis.report;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * Test reference: reads one figure's SVG as XML and pairs its legend with what it draws. The report puts
 * each legend entry in {@code <g data-legend='name'>} and what is drawn for a series in
 * {@code <g data-series='name'>} (one group per rendering pass, or per box).
 */
final class SvgSeries {

    /** What is drawn for one series: distinct vertices of its paths and lines, and rects of non-zero size. */
    record Drawn(int points, int shapes) {
        /** A line needs two points; a bar or box one rect of non-zero size. */
        boolean visible() {
            return points >= 2 || shapes >= 1;
        }
    }

    /** The legend's entries (name and the text shown) and the drawn series, in document order. */
    record Figure(Map<String, String> legend, Map<String, Drawn> series) {}

    private static final Pattern VERTEX = Pattern.compile("[MLCQ][^MLCQZ]*?(-?[\\d.Ee+-]+),(-?[\\d.Ee+-]+)(?=[MLCQZ]|$)");

    private SvgSeries() {}

    static Figure read(String svg) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Element root = factory.newDocumentBuilder().parse(new InputSource(new StringReader(svg))).getDocumentElement();
        Map<String, String> legend = new LinkedHashMap<>();
        Map<String, Set<String>> vertices = new LinkedHashMap<>();
        Map<String, Integer> shapes = new LinkedHashMap<>();
        NodeList groups = root.getElementsByTagName("g");
        for (int i = 0; i < groups.getLength(); i++) {
            Element g = (Element) groups.item(i);
            if (g.hasAttribute("data-legend")) {
                legend.put(g.getAttribute("data-legend"), g.getTextContent().strip());
            }
            if (g.hasAttribute("data-series")) {
                String name = g.getAttribute("data-series");
                Set<String> points = vertices.computeIfAbsent(name, n -> new HashSet<>());
                shapes.putIfAbsent(name, 0);
                NodeList paths = g.getElementsByTagName("path");
                for (int p = 0; p < paths.getLength(); p++) {
                    Matcher vertex = VERTEX.matcher(((Element) paths.item(p)).getAttribute("d"));
                    while (vertex.find()) {
                        points.add(vertex.group(1) + "," + vertex.group(2));
                    }
                }
                NodeList lines = g.getElementsByTagName("line"); // a line series drawn segment by segment
                for (int l = 0; l < lines.getLength(); l++) {
                    Element line = (Element) lines.item(l);
                    points.add(line.getAttribute("x1") + "," + line.getAttribute("y1"));
                    points.add(line.getAttribute("x2") + "," + line.getAttribute("y2"));
                }
                shapes.merge(name, rects(g), Integer::sum);
            }
        }
        Map<String, Drawn> series = new LinkedHashMap<>();
        vertices.forEach((name, points) -> series.put(name, new Drawn(points.size(), shapes.get(name))));
        return new Figure(legend, series);
    }

    /** Rects with a width and a height above 0 (bars, boxes) inside a group. */
    private static int rects(Element group) {
        int count = 0;
        NodeList rects = group.getElementsByTagName("rect");
        for (int i = 0; i < rects.getLength(); i++) {
            Element rect = (Element) rects.item(i);
            if (number(rect, "width") > 0 && number(rect, "height") > 0) {
                count++;
            }
        }
        return count;
    }

    private static double number(Element element, String attribute) {
        return Double.parseDouble(element.getAttribute(attribute));
    }

    /** Problems a reader would see: a legend entry with nothing drawn for it, or a figure drawing nothing. */
    static List<String> problems(String figureId, Figure figure) {
        List<String> problems = new ArrayList<>();
        figure.legend().forEach((name, text) -> {
            Drawn drawn = figure.series().get(name);
            if (!text.equals(name)) {
                problems.add(figureId + ": the legend entry of series '" + name + "' reads '" + text + "'");
            }
            if (drawn == null || !drawn.visible()) {
                problems.add(figureId + ": series '" + name + "' is named in the legend but not drawn ("
                        + (drawn == null ? "no element" : drawn.points() + " points, " + drawn.shapes() + " shapes") + ")");
            }
        });
        if (figure.series().values().stream().noneMatch(Drawn::visible)) {
            problems.add(figureId + ": no series drawn");
        }
        return problems;
    }
}
