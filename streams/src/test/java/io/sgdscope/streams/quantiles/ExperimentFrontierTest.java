package io.sgdscope.streams.quantiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.RunStatus;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ExperimentFrontierTest {

    /**
     * Random histories of activations, finishes, stalls, revivals and loss bands, checked after every event
     * against the rule worked out from scratch: the deepest kept loss band t with runs(t) − #{finished or stalled
     * runs whose last iteration ≥ t} ≥ active (any band when none is active), the frontier staying where it was
     * when no band qualifies.
     */
    @Test
    void frontierFollowsTheRuleRecomputedFromScratchAfterEveryEvent() {
        Random random = new Random(20261205L);
        for (int history = 0; history < 200; history++) {
            ExperimentFrontier frontier = new ExperimentFrontier("e");
            int active = 0;
            List<Integer> stoppedAt = new ArrayList<>(); // last iterations of finished (once active) and stalled runs
            List<Integer> stalledAt = new ArrayList<>();
            Map<Integer, Long> lossRuns = new HashMap<>();
            int expected = -1;
            for (int event = 0; event < 60; event++) {
                int kind = random.nextInt(6);
                if (kind == 0 || active == 0 && kind < 4) {
                    frontier.activate();
                    active++;
                } else if (kind == 1) {
                    int last = random.nextInt(30);
                    frontier.finish(RunStatus.COMPLETED, true, last);
                    active--;
                    stoppedAt.add(last);
                } else if (kind == 2) {
                    int last = random.nextInt(30);
                    frontier.stall(last);
                    active--;
                    stoppedAt.add(last);
                    stalledAt.add(last);
                } else if (kind == 3 && !stalledAt.isEmpty()) {
                    int last = stalledAt.remove(random.nextInt(stalledAt.size()));
                    frontier.revive(last);
                    active++;
                    stoppedAt.remove(Integer.valueOf(last));
                } else {
                    int t = random.nextInt(30);
                    long runs = random.nextInt(12);
                    lossRuns.put(t, runs);
                    frontier.band(band("loss", t, runs));
                    frontier.band(band("sgNorm", t, runs)); // other metrics never place the frontier
                }
                boolean moved = frontier.update();
                int rule = ruleFrontier(lossRuns, stoppedAt, active);
                int before = expected;
                if (rule >= 0) {
                    expected = rule;
                }
                assertEquals(expected, frontier.frontier(), "history " + history + ", event " + event);
                assertEquals(expected != before, moved, "history " + history + ", event " + event);
            }
        }
    }

    @Test
    void onlyTheLossBandsCanMoveTheFrontier() {
        assertTrue(ExperimentFrontier.movesFrontier("loss"));
        assertFalse(ExperimentFrontier.movesFrontier("lossDelta"));
        assertFalse(ExperimentFrontier.movesFrontier("sgNorm"));
    }

    /** The rule, by brute force over every kept band and every stopped run; -1 when no band qualifies. */
    private static int ruleFrontier(Map<Integer, Long> lossRuns, List<Integer> stoppedAt, int active) {
        int[] iterations = lossRuns.keySet().stream().mapToInt(Integer::intValue).toArray();
        Arrays.sort(iterations);
        for (int i = iterations.length - 1; i >= 0; i--) {
            int t = iterations[i];
            long reaching = stoppedAt.stream().filter(last -> last >= t).count();
            if (active == 0 || lossRuns.get(t) - reaching >= active) {
                return t;
            }
        }
        return -1;
    }

    private static CrossRunBand band(String metric, int t, long runs) {
        double[] quantiles = new double[Quantiles.LEVELS.size()];
        Arrays.fill(quantiles, 0.5);
        return new CrossRunBand("e", metric, t, runs, 0, 0.5, Double.NaN, 0.5, 0.5, Quantiles.of(quantiles), 0, 0L);
    }
}
