package io.sgdscope.streams.quantiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.streams.Telemetry;
import io.sgdscope.streams.runs.RunInput;
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
    void theSupermartingaleIndicatorIsOneExactlyWhenTheUpperEndOfEq27IsNotPositive() {
        // −η‖μ‖² + (η²/2) L Tr M with η = 0.5, L = 4, Tr M = 2: −0.5‖μ‖² + 1 (exact in binary), zero at ‖μ‖² = 2.
        IterationMetrics record = Telemetry.iteration("e", "r", 0, 1.0);
        record.setStepSize(0.5);
        record.setTraceM(2.0);
        record.setHessianSpectralNorm(4.0);
        TrackedMetric held = TrackedMetric.named(TrackedMetric.SUPERMARTINGALE_HELD);
        assertNull(held.valueOf(record), "without ‖μ‖² the condition is unknown");
        record.setGradNormSq(2.0);
        assertEquals(1.0, held.valueOf(record), "0 ≤ 0 holds");
        record.setGradNormSq(1.999);
        assertEquals(0.0, held.valueOf(record));
    }

    @Test
    void spectrumScalarsAreTheFirstEigenvaluesAndTheCosinesFirstAndMean() {
        RunInput.Spectrum snapshot = new RunInput.Spectrum("r", "e", 3, new double[] {12.0, 5.0, 7.0, 0.9, 0.6});
        assertEquals(12.0, TrackedMetric.named("hessianTopEigenvalue").valueOf(snapshot));
        assertEquals(0.6, TrackedMetric.named("principalAngleCosineMean").valueOf(snapshot));
        assertNull(TrackedMetric.named("loss").valueOf(snapshot), "a snapshot has no loss");
    }

    @Test
    void aNameThatIsNoMetricIsRejectedWithTheChoices() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> TrackedMetric.named("batchSize"));
        assertTrue(error.getMessage().startsWith("'batchSize' is not a metric sgdscope tracks; choose from [loss, "),
                error.getMessage());
        assertTrue(error.getMessage().contains("lossDelta, supermartingaleHeld, hessianTopEigenvalue"), error.getMessage());
    }
}
