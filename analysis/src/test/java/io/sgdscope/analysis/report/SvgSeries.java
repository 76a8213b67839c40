package io.sgdscope.analysis.report;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test reference: finds the data series JFreeChart drew into an SVG. Series are painted in the report's
 * palette; axes, grid and text are not. A group styled with a palette colour holding a path is a drawn
 * series; its size is the number of line segments of its longest path.
 */
final class SvgSeries {

    private static final Pattern SERIES_GROUP = Pattern.compile(
            "<g style='[^']*rgb\\((31,119,180|214,39,40|44,160,44|255,127,14|148,103,189|140,86,75)\\)[^']*'[^>]*>(.*?)</g>",
            Pattern.DOTALL);
    private static final Pattern PATH = Pattern.compile("<path[^>]* d='([^']+)'");
    /** Boxes and bars are rects, whiskers lines, each styled with its series colour. */
    private static final Pattern SHAPE = Pattern.compile(
            "<(rect|line)[^>]* style='[^']*rgb\\((31,119,180|214,39,40|44,160,44|255,127,14|148,103,189|140,86,75)\\)");

    private SvgSeries() {}

    /** Elements drawn in a series colour: paths inside series groups, and boxes, bars and whiskers. */
    static int drawnElements(String svg) {
        int count = 0;
        Matcher group = SERIES_GROUP.matcher(svg);
        while (group.find()) {
            Matcher path = PATH.matcher(group.group(2));
            while (path.find()) {
                count++;
            }
        }
        Matcher shape = SHAPE.matcher(svg);
        while (shape.find()) {
            count++;
        }
        return count;
    }

    /** Segments (L commands) of the longest path drawn in a series colour; -1 when no series is drawn. */
    static int longestSeriesPath(String svg) {
        int longest = -1;
        Matcher group = SERIES_GROUP.matcher(svg);
        while (group.find()) {
            Matcher path = PATH.matcher(group.group(2));
            while (path.find()) {
                int segments = path.group(1).split("L", -1).length - 1;
                longest = Math.max(longest, segments);
            }
        }
        return longest;
    }
}
