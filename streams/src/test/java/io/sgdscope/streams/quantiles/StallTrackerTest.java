package io.sgdscope.streams.quantiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stall decisions alone, on a clock of the test's own (milliseconds passed in). */
class StallTrackerTest {

    private static final long MINUTE = 60_000;

    @Test
    void aRunSilentForTheTimeoutIsReportedOnceAndItsNextRecordMakesItActiveAgain() {
        StallTracker tracker = new StallTracker(Duration.ofMinutes(1));
        StallTracker.Block block = tracker.block("a", "exp");
        assertFalse(tracker.seen(block, 0, 0), "a run's first record: not a return");
        assertFalse(tracker.seen(block, 1, 0));
        assertFalse(tracker.seen(block, 1, 30_000));

        assertEquals(List.of(), tracker.silentRuns(MINUTE - 1), "one millisecond short of the timeout");
        assertEquals(List.of(new StallTracker.Silent("a", "exp", 0)), tracker.silentRuns(MINUTE), "run 0: a minute of silence");
        assertEquals(List.of(), tracker.silentRuns(MINUTE + 1), "reported once per silence");
        assertEquals(List.of(new StallTracker.Silent("a", "exp", 1)), tracker.silentRuns(90_000));

        assertTrue(tracker.seen(block, 0, 100_000), "back after a silence: announce it");
        assertFalse(tracker.seen(block, 0, 100_001));
        assertEquals(List.of(), tracker.silentRuns(100_001 + MINUTE - 1), "timed from its latest record");
        assertEquals(List.of(new StallTracker.Silent("a", "exp", 0)), tracker.silentRuns(100_001 + MINUTE));
    }

    @Test
    void aSnapshotKeepsAnActiveRunAliveButDoesNotReviveASilentOne() {
        StallTracker tracker = new StallTracker(Duration.ofMinutes(1));
        StallTracker.Block block = tracker.block("a", "exp");
        tracker.seen(block, 0, 0);
        tracker.signOfLife(block, 0, 50_000);
        assertEquals(List.of(), tracker.silentRuns(MINUTE));
        assertEquals(1, tracker.silentRuns(110_000).size());
        tracker.signOfLife(block, 0, 120_000);
        assertTrue(tracker.seen(block, 0, 130_000), "still silent after the snapshot: its record announces it");
    }

    @Test
    void aRestoredRunIsTimedFromTheRestartAndAnnouncedByItsNextRecord() {
        StallTracker tracker = new StallTracker(Duration.ofMinutes(1));
        tracker.restored("a", "exp", 2, 1_000);
        assertEquals(List.of(new StallTracker.Silent("a", "exp", 2)), tracker.silentRuns(1_000 + MINUTE));
        tracker.restored("b", "exp", 0, 1_000);
        assertTrue(tracker.seen(tracker.block("b", "exp"), 0, 2_000), "the frontier may know it as stalled");
    }

    @Test
    void aFinishedRunIsForgottenAndARunAwaitingItsLastRecordsIsTimedAgain() {
        StallTracker tracker = new StallTracker(Duration.ofMinutes(1));
        StallTracker.Block block = tracker.block("a", "exp");
        tracker.seen(block, 0, 0);
        tracker.seen(block, 1, 0);
        tracker.forget("a", 1);
        assertEquals(List.of(new StallTracker.Silent("a", "exp", 0)), tracker.silentRuns(MINUTE));
        tracker.forget("a", 0);
        assertNull(tracker.find("a"), "a block without tracked runs is dropped");

        StallTracker.Block other = tracker.block("b", "exp");
        tracker.awaitingRecords(other, 3, 5_000);            // a RunFinished before any iteration of the run
        assertEquals(List.of(new StallTracker.Silent("b", "exp", 3)), tracker.silentRuns(5_000 + MINUTE));
        tracker.awaitingRecords(other, 3, 70_000);           // silent, then a RunFinished: timed again
        assertEquals(List.of(), tracker.silentRuns(70_000 + MINUTE - 1));
        assertEquals(1, tracker.silentRuns(70_000 + MINUTE).size());
    }

    @Test
    void withoutATimeoutNothingIsTrackedAndTheCheckIntervalStaysWithinItsBounds() {
        StallTracker never = new StallTracker(Duration.ZERO);
        assertFalse(never.enabled());
        assertNull(never.block("a", "exp"));
        assertFalse(never.seen(null, 0, 0));
        assertEquals(List.of(), never.silentRuns(Long.MAX_VALUE));

        assertEquals(Duration.ofSeconds(15), new StallTracker(Duration.ofMinutes(1)).checkInterval());
        assertEquals(Duration.ofMinutes(1), new StallTracker(Duration.ofMinutes(15)).checkInterval());
        assertEquals(Duration.ofMillis(100), new StallTracker(Duration.ofMillis(200)).checkInterval());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, () -> new StallTracker(Duration.ofSeconds(-1)));
        assertEquals("stall timeout must be >= 0, was PT-1S", negative.getMessage());
    }
}
