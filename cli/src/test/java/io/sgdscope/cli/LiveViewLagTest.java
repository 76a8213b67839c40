package io.sgdscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sgdscope.schemas.RunStatus;
import io.sgdscope.streams.quantiles.ExperimentStatus;
import io.sgdscope.trainer.ExperimentResult;
import io.sgdscope.trainer.RunResult;
import io.sgdscope.trainer.TrainerSettings;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The demo's "Live view" line: the frontier's lag behind the trainer in iterations and in seconds, on a fake clock. */
class LiveViewLagTest {

    private static final long SECOND = 1_000_000_000L;

    /** A clock the test moves by hand. */
    private static final class FakeClock {
        long nanos = 5 * SECOND;

        long now() {
            return nanos;
        }
    }

    private static Optional<ExperimentStatus> frontierAt(int iteration, long active) {
        return Optional.of(new ExperimentStatus("g10", iteration, active, 100 - active, 0, 0, 0, 0));
    }

    @Test
    void theLagIsTheFrontierAtTheEndOfTrainingAndTheTimeUntilItFirstReachesTheLastIteration() {
        FakeClock clock = new FakeClock();
        LiveViewLag lag = LiveViewLag.atEndOfTraining(399, frontierAt(321, 100), clock::now);
        assertEquals(78, lag.iterationsBehind());
        assertFalse(lag.secondsToCatchUp().isPresent(), "not caught up before anything was observed");

        clock.nanos += 3 * SECOND;
        lag.observe(frontierAt(360, 100));
        assertFalse(lag.secondsToCatchUp().isPresent());
        clock.nanos += 11 * SECOND + 200_000_000L;
        lag.observe(frontierAt(399, 0));
        clock.nanos += 5 * SECOND;
        lag.observe(frontierAt(399, 0)); // later observations do not move the moment it caught up

        assertEquals(14.2, lag.secondsToCatchUp().getAsDouble(), 1e-9);
        assertEquals(78, lag.iterationsBehind(), "the lag in iterations is the one at the end of training");
        assertEquals("Live view: bands at iteration 321 of 399 when training ended (78 iterations behind), caught up 14.2 s later",
                lag.summaryLine());
    }

    @Test
    void aFrontierAlreadyAtTheLastIterationIsNoLag() {
        FakeClock clock = new FakeClock();
        LiveViewLag lag = LiveViewLag.atEndOfTraining(399, frontierAt(399, 0), clock::now);
        clock.nanos += 2 * SECOND;
        lag.observe(frontierAt(399, 0));
        assertEquals(0, lag.iterationsBehind());
        assertEquals(0.0, lag.secondsToCatchUp().getAsDouble(), 0.0);
        assertEquals("Live view: bands at iteration 399 of 399 when training ended (0 iterations behind), caught up 0.0 s later",
                lag.summaryLine());
    }

    @Test
    void anExperimentTheQuantilesAppHadNotSeenIsBehindByAllItsIterations() {
        FakeClock clock = new FakeClock();
        LiveViewLag lag = LiveViewLag.atEndOfTraining(49, Optional.empty(), clock::now);
        assertEquals(-1, lag.frontierAtEnd());
        assertEquals(50, lag.iterationsBehind());
        clock.nanos += SECOND / 2;
        lag.observe(Optional.empty());
        lag.observe(frontierAt(48, 1));
        assertFalse(lag.secondsToCatchUp().isPresent(), "one run still short of the last iteration");
        assertEquals("Live view: no bands yet when training ended (50 iterations behind), not caught up 0.5 s later",
                lag.summaryLine());
        clock.nanos += SECOND;
        lag.observe(frontierAt(49, 0));
        assertEquals(1.5, lag.secondsToCatchUp().getAsDouble(), 1e-9);
    }

    @Test
    void oneIterationBehindIsSingular() {
        FakeClock clock = new FakeClock();
        LiveViewLag lag = LiveViewLag.atEndOfTraining(399, frontierAt(398, 3), clock::now);
        assertEquals("Live view: bands at iteration 398 of 399 when training ended (1 iteration behind), not caught up 0.0 s later",
                lag.summaryLine());
    }

    @Test
    void theLastTrainedIterationIsTheDeepestAnyRunReached() {
        TrainerSettings settings = TrainerSettings.builder().experimentId("g10").runs(3).iterations(400).build();
        List<RunResult> runs = List.of(run(0, RunStatus.DIVERGED, 17), run(1, RunStatus.COMPLETED, 400),
                run(2, RunStatus.CANCELLED, 250));
        assertEquals(399, DemoCommand.lastTrainedIteration(new ExperimentResult(settings, runs, 0, 1.0)));
        assertEquals(16, DemoCommand.lastTrainedIteration(new ExperimentResult(settings, runs.subList(0, 1), 0, 1.0)));
        assertEquals(-1, DemoCommand.lastTrainedIteration(new ExperimentResult(settings, List.of(), 0, 0.0)));
    }

    private static RunResult run(int index, RunStatus status, int iterations) {
        return new RunResult("g10-r" + index, index, index, status, iterations, 0.1, 0, null, 1.0, 0, false);
    }
}
