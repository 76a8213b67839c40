package io.sgdscope.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The shipped Grafana dashboards and Prometheus rules, read as data: their queries and the metric names they use. */
final class Dashboards {

    static final Path DASHBOARDS = Path.of("grafana", "dashboards");
    static final Path RULES = Path.of("prometheus", "rules", "sgdscope.yml");
    static final String DATASOURCE_UID = "sgdscope-prometheus";

    /** A PromQL expression and where it comes from. */
    record Query(String source, String expr) {}

    private static final Pattern IDENTIFIER = Pattern.compile("(?<![a-zA-Z0-9_:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?");
    private static final java.util.Set<String> PROMQL_WORDS = java.util.Set.of("sum", "by", "rate", "increase", "max", "min",
            "avg", "histogram_quantile", "and", "on", "or", "unless", "label_values", "without", "count", "le", "topk",
            "offset", "bool", "ignoring", "group_left", "group_right");

    private Dashboards() {}

    static List<Path> files() throws IOException {
        try (Stream<Path> files = Files.list(DASHBOARDS)) {
            return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    static JsonNode read(Path file) throws IOException {
        return new ObjectMapper().readTree(file.toFile());
    }

    /** Every panel target expression of every dashboard. */
    static List<Query> panelQueries() throws IOException {
        List<Query> queries = new ArrayList<>();
        for (Path file : files()) {
            for (JsonNode panel : read(file).path("panels")) {
                for (JsonNode target : panel.path("targets")) {
                    queries.add(new Query(file.getFileName() + " / " + panel.path("title").asText(), target.path("expr").asText()));
                }
            }
        }
        return queries;
    }

    /** Every rule's expression (recording rules and alerts). */
    static List<Query> ruleQueries() throws IOException {
        List<Query> queries = new ArrayList<>();
        JsonNode rules = new YAMLMapper().readTree(RULES.toFile());
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                String name = rule.has("alert") ? "alert " + rule.path("alert").asText() : "record " + rule.path("record").asText();
                queries.add(new Query(name, rule.path("expr").asText()));
            }
        }
        return queries;
    }

    /** Names of the recording rules (metrics Prometheus makes, not the applications). */
    static java.util.Set<String> recordedNames() throws IOException {
        java.util.Set<String> names = new TreeSet<>();
        JsonNode rules = new YAMLMapper().readTree(RULES.toFile());
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                if (rule.has("record")) {
                    names.add(rule.path("record").asText());
                }
            }
        }
        return names;
    }

    /**
     * The metric names a PromQL expression selects (identifiers followed by a label matcher, a range, or
     * standing alone), leaving out PromQL's own functions and keywords and label names inside braces.
     */
    static java.util.Set<String> metricNames(String expr) {
        String withoutLabels = expr.replaceAll("\\{[^}]*\\}", "{}").replaceAll("by \\([^)]*\\)", "").replaceAll("on \\([^)]*\\)", "")
                .replaceAll("\"[^\"]*\"", "");
        java.util.Set<String> names = new TreeSet<>();
        Matcher matcher = IDENTIFIER.matcher(withoutLabels.replaceAll("\\[[^]]*\\]", "[]"));
        while (matcher.find()) {
            String name = matcher.group(1);
            boolean function = matcher.group(2) != null;
            if (!PROMQL_WORDS.contains(name) && !function) {
                names.add(name);
            }
        }
        return names;
    }

    /** Grafana's variables replaced with values a test chooses. */
    static String substitute(String expr, Map<String, String> variables) {
        String result = expr;
        for (Map.Entry<String, String> variable : variables.entrySet()) {
            result = result.replace("$" + variable.getKey(), variable.getValue());
        }
        return result;
    }
}
