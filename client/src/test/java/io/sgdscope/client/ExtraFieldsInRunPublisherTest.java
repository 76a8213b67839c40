package io.sgdscope.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sgdscope.schemas.IterationMetrics;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link RunPublisher#iteration(Step, GradientStatistics, java.util.function.Consumer)}: curvature values computed by
 * the caller reach the published record next to the scalars, which equal those of the plain overload.
 */
class ExtraFieldsInRunPublisherTest {

    @Test
    void extraFieldsArePublishedWithTheScalarsOfThePlainOverload() {
        InMemoryTelemetrySink plain = new InMemoryTelemetrySink();
        InMemoryTelemetrySink extra = new InMemoryTelemetrySink();
        RunDescription description = ClientTestRuns.run("extra", 0, 3);
        double[] theta = {1, 2, 3};
        double[] gradient = {0.5, -1, 2};
        Step step = Step.of(0.7, 0.9, 0.1, 5);
        IterationMetrics returned;
        try (RunPublisher a = SgdscopeClient.over(plain).startRun(description);
             RunPublisher b = SgdscopeClient.over(extra).startRun(description)) {
            a.iteration(step, theta, gradient);
            returned = b.iteration(step, new GradientTracker(3).next(theta, gradient), r -> {
                r.setTraceSigma(4.5);
                r.setHessianSpectralNorm(12.0);
            });
            assertEquals(1, b.iterations());
        }
        IterationMetrics want = plain.iterations().get(0);
        IterationMetrics got = extra.iterations().get(0);
        assertSame(returned, got);
        assertEquals(List.of(want.getLoss(), want.getMinibatchLoss(), want.getSgNorm(), want.getStepSize()),
                List.of(got.getLoss(), got.getMinibatchLoss(), got.getSgNorm(), got.getStepSize()));
        assertEquals(Math.sqrt(0.25 + 1 + 4), got.getSgNorm(), 1e-15);
        assertEquals(4.5, got.getTraceSigma());
        assertEquals(12.0, got.getHessianSpectralNorm());
        assertNull(want.getTraceSigma());
        assertNull(got.getGradNormSq());
    }

    @Test
    void extraFieldsThatMoveTheRecordToAnotherIterationAreRefused() {
        try (RunPublisher run = SgdscopeClient.over(new InMemoryTelemetrySink()).startRun(ClientTestRuns.run("x", 0, 1))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run.iteration(
                    Step.of(1, 1, 0.1, 1), new GradientTracker(1).next(new double[1], new double[1]),
                    r -> r.setIteration(5)));
            assertEquals("the extra fields changed the record's run id or iteration", e.getMessage());
            assertEquals(0, run.iterations());
        }
    }
}
