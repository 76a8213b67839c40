package io.sgdscope.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sgdscope.schemas.IterationMetrics;
import java.util.List;
import org.junit.jupiter.api.Test;

/** IterationMetrics.paramDistance is ||theta_t - theta_0|| (Eq. 52) of the run's first published theta. */
class ParamDistanceInRunPublisherTest {

    @Test
    void theDistanceFromTheFirstPublishedThetaIsPublishedEveryIteration() {
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        double[] gradient = {0.5, -1, 2};
        try (RunPublisher run = SgdscopeClient.over(sink).startRun(ClientTestRuns.run("distance", 0, 3))) {
            run.iteration(Step.of(0.7, 0.9, 0.1, 5), new double[] {1, 2, 3}, gradient);
            run.iteration(Step.of(0.6, 0.8, 0.1, 5), new double[] {2, 4, 5}, gradient);       // (1, 2, 2) away
            run.iteration(Step.of(0.5, 0.7, 0.1, 5), new float[] {4, -1, 15}, new float[] {1, 1, 1});   // (3, -3, 12)
        }
        List<IterationMetrics> records = sink.iterations();
        assertEquals(0.0, records.get(0).getParamDistance());
        assertEquals(3.0, records.get(1).getParamDistance(), 1e-15);
        assertEquals(Math.sqrt(9 + 9 + 144), records.get(2).getParamDistance(), 1e-15);
    }
}
