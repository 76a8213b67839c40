package io.sgdscope.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The shipped Prometheus files pass Prometheus' own checker. */
class PromtoolTest {

    @Test
    void theComposePrometheusConfigurationIsValid() throws Exception {
        assertValid("prometheus/prometheus.yml");
    }

    @Test
    void theLocalPrometheusConfigurationIsValid() throws Exception {
        assertValid("prometheus/prometheus-local.yml");
    }

    @Test
    void theRulesAreValid() throws Exception {
        Promtool.Result result = Promtool.run("check", "rules", "prometheus/rules/sgdscope.yml");
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("SUCCESS: 14 rules found"), result.output());
    }

    @Test
    void theAlertingRulesPassTheirUnitTests() throws Exception {
        Promtool.Result result = Promtool.run("test", "rules", "prometheus/tests/sgdscope-rules-test.yml");
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("SUCCESS"), result.output());
    }

    private static void assertValid(String config) throws Exception {
        Promtool.Result result = Promtool.run("check", "config", config);
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("SUCCESS"), result.output());
    }
}
