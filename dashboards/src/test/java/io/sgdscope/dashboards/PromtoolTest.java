package io.sgdscope.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The shipped Prometheus files pass Prometheus' own checker. */
class PromtoolTest {

    @Test
    void theShippedPrometheusConfigurationIsValid() throws Exception {
        Promtool.Result result = Promtool.run("check", "config", "prometheus/prometheus.yml");
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("SUCCESS"), result.output());
    }
}
