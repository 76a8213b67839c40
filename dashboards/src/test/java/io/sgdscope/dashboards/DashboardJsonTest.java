package io.sgdscope.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The dashboards are valid JSON, every panel has a unique id and uses the provisioned datasource. */
class DashboardJsonTest {

    @Test
    void theTwoDashboardsAreThere() throws Exception {
        assertEquals(List.of("pipeline-health.json", "sgd-dynamics.json"),
                Dashboards.files().stream().map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void panelIdsAreUniqueWithinEachDashboard() throws Exception {
        for (Path file : Dashboards.files()) {
            Set<Integer> ids = new HashSet<>();
            for (JsonNode panel : Dashboards.read(file).path("panels")) {
                assertTrue(panel.has("id"), file + ": a panel without an id");
                assertTrue(ids.add(panel.path("id").asInt()), file + ": panel id " + panel.path("id") + " twice");
            }
            assertFalse(ids.isEmpty(), file + " has panels");
        }
    }

    @Test
    void everyPanelAndTargetUsesTheProvisionedDatasource() throws Exception {
        JsonNode provisioned = new YAMLMapper().readTree(Path.of("grafana", "provisioning", "datasources", "prometheus.yml").toFile());
        assertEquals(Dashboards.DATASOURCE_UID, provisioned.path("datasources").get(0).path("uid").asText());
        for (Path file : Dashboards.files()) {
            JsonNode dashboard = Dashboards.read(file);
            for (JsonNode panel : dashboard.path("panels")) {
                String where = file.getFileName() + " / " + panel.path("title").asText();
                assertEquals(Dashboards.DATASOURCE_UID, panel.path("datasource").path("uid").asText(), where);
                assertFalse(panel.path("targets").isEmpty(), where + " has no query");
                for (JsonNode target : panel.path("targets")) {
                    assertEquals(Dashboards.DATASOURCE_UID, target.path("datasource").path("uid").asText(), where);
                    assertFalse(target.path("expr").asText().isBlank(), where);
                }
            }
            for (JsonNode variable : dashboard.path("templating").path("list")) {
                assertEquals(Dashboards.DATASOURCE_UID, variable.path("datasource").path("uid").asText(), file + " variable");
            }
        }
    }

    @Test
    void metricNamesAreReadOutOfPromql() {
        assertEquals(Set.of("sgdscope_cross_run_quantile"),
                Dashboards.metricNames("sgdscope_cross_run_quantile{experiment=\"$experiment\",metric=\"loss\",quantile=\"0.5\"}"));
        assertEquals(Set.of("sgdscope_record_latency_seconds_bucket"),
                Dashboards.metricNames("histogram_quantile(0.99, sum by (le) (rate(sgdscope_record_latency_seconds_bucket[1m])))"));
        assertEquals(Set.of("sgdscope_deviation_alerts_total"), Dashboards.metricNames(
                "sum by (experiment, check) (sgdscope_deviation_alerts_total unless sgdscope_deviation_alerts_total offset 10m)"));
        assertEquals(Set.of("experiment:sgdscope_runs_active:sum", "experiment:sgdscope_iteration_records:rate1m"),
                Dashboards.metricNames("experiment:sgdscope_runs_active:sum > 0 and on (experiment) experiment:sgdscope_iteration_records:rate1m == 0"));
    }
}
