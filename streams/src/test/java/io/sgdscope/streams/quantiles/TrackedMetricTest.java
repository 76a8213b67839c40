package io.sgdscope.streams.quantiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.IterationMetrics;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrackedMetricTest {

    @Test
    void everyScalarDoubleFieldCanBeTrackedByName() {
        assertTrue(TrackedMetric.scalarMetricNames().containsAll(
                List.of("loss", "sgNorm", "sgCosPrev", "gradNormSq", "traceM", "hessianSpectralNorm")));
        assertFalse(TrackedMetric.scalarMetricNames().contains("iteration"), "an int is not a metric");
        assertFalse(TrackedMetric.scalarMetricNames().contains("runId"));

        IterationMetrics record = Telemetry.iteration("e", "r", 4, 0.25);
        assertEquals(0.25, TrackedMetric.named("loss").valueOf(record));
        assertEquals(1.0, TrackedMetric.named("sgNorm").valueOf(record));
        assertNull(TrackedMetric.named("traceM").valueOf(record), "not computed at this iteration");
        record.setTraceM(7.5);
        assertEquals(7.5, TrackedMetric.named("traceM").valueOf(record));
    }

    @Test
    void aNameThatIsNoScalarMetricIsRejectedWithTheChoices() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> TrackedMetric.named("batchSize"));
        assertTrue(error.getMessage().startsWith("'batchSize' is not a scalar metric of IterationMetrics; choose from [loss, "),
                error.getMessage());
    }
}
