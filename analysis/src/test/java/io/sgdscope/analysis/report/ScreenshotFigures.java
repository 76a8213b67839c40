package io.sgdscope.analysis.report;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Test reference: finds the figures in a screenshot of the report and measures how much of each is
 * painted. The test gives every figure's SVG a CSS outline in a colour the report never uses
 * ({@link #OUTLINE_CSS}); an outline takes no space, so the page is laid out exactly as without it, and the
 * pixels inside each outlined box are that figure as Chromium painted it.
 */
final class ScreenshotFigures {

    static final String OUTLINE_CSS = "<style>figure svg{outline:3px solid #ff00ff}</style>";
    private static final int OUTLINE = 3;

    /** Shares of a figure's pixels: not white (anything painted), and in a series colour (not grey). */
    record Ink(double painted, double coloured) {}

    /** A figure as shown: the inside of its outline, and its ink. */
    record Shown(Rectangle box, Ink ink) {}

    private ScreenshotFigures() {}

    /** The outlined figures of a screenshot, top to bottom. */
    static List<Shown> read(Path png) throws IOException {
        BufferedImage image = ImageIO.read(png.toFile());
        return figures(image).stream().map(box -> new Shown(box, ink(image, box))).toList();
    }

    /** The inside of each outlined box, top to bottom. */
    private static List<Rectangle> figures(BufferedImage image) {
        List<Rectangle> boxes = new ArrayList<>();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                // The top-left corner of an outline: marker here, none to the left or above.
                if (marker(image, x, y) && !marker(image, x - 1, y) && !marker(image, x, y - 1)) {
                    int right = x;
                    while (marker(image, right + 1, y)) {
                        right++;
                    }
                    int bottom = y;
                    while (marker(image, x, bottom + 1)) {
                        bottom++;
                    }
                    if (right - x > 4 * OUTLINE && bottom - y > 4 * OUTLINE) {
                        boxes.add(new Rectangle(x + OUTLINE, y + OUTLINE, right - x + 1 - 2 * OUTLINE, bottom - y + 1 - 2 * OUTLINE));
                    }
                }
            }
        }
        boxes.sort(Comparator.comparingInt((Rectangle r) -> r.y).thenComparingInt(r -> r.x));
        return boxes;
    }

    private static Ink ink(BufferedImage image, Rectangle area) {
        long painted = 0;
        long coloured = 0;
        for (int y = area.y; y < area.y + area.height; y++) {
            for (int x = area.x; x < area.x + area.width; x++) {
                int rgb = image.getRGB(x, y);
                int r = (rgb >> 16) & 0xff;
                int g = (rgb >> 8) & 0xff;
                int b = rgb & 0xff;
                if (Math.min(r, Math.min(g, b)) < 245) {
                    painted++;
                }
                // Text, axes and grid lines are grey (r = g = b); the series are drawn in the palette.
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) >= 24) {
                    coloured++;
                }
            }
        }
        double pixels = (double) area.width * area.height;
        return new Ink(painted / pixels, coloured / pixels);
    }

    private static boolean marker(BufferedImage image, int x, int y) {
        if (x < 0 || y < 0 || x >= image.getWidth() || y >= image.getHeight()) {
            return false;
        }
        int rgb = image.getRGB(x, y);
        return ((rgb >> 16) & 0xff) >= 240 && ((rgb >> 8) & 0xff) <= 15 && (rgb & 0xff) >= 240;
    }
}
