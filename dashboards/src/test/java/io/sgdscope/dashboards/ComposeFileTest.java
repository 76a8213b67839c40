package io.sgdscope.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker-compose.yml (alone, with the gpu profile, with the three-broker override) is valid for Debian's
 * docker-compose (1.29, offline) and, as compose resolves it ({@code docker-compose config}), safe to deploy:
 * ports on loopback, a required Grafana password, no Prometheus lifecycle API, an Alertmanager that reaches
 * the host, Kafka data in its volume; the override is a replicated three-broker cluster the apps wait for.
 * No Docker engine runs here: this checks the files, it does not start the services.
 */
class ComposeFileTest {

    private static final Path TOP = Path.of("..").toAbsolutePath().normalize();
    private static final String PASSWORD = "password-for-the-test";
    private static final List<String> ONE_BROKER = List.of("-f", "docker-compose.yml", "--profile", "gpu");
    private static final List<String> THREE_BROKERS =
            List.of("-f", "docker-compose.yml", "-f", "docker-compose.kafka3.yml", "--profile", "gpu");

    /** An empty --env-file, so that a developer's .env beside the compose file does not change the outcome. */
    @TempDir
    static Path emptyEnvDir;

    @Test
    void theComposeFileIsValid() throws Exception {
        assertValid("-f", "docker-compose.yml", "config", "-q");
    }

    @Test
    void theGpuProfileIsValid() throws Exception {
        assertValid("-f", "docker-compose.yml", "--profile", "gpu", "config", "-q");
    }

    @Test
    void theThreeBrokerOverrideIsValid() throws Exception {
        assertValid("-f", "docker-compose.yml", "-f", "docker-compose.kafka3.yml", "config", "-q");
    }

    @Test
    void everyPublishedPortIsOnLoopbackUnlessABindAddressIsGiven() throws Exception {
        for (List<String> files : List.of(ONE_BROKER, THREE_BROKERS)) {
            Map<String, String> ports = publishedPorts(config(files, Map.of()));
            assertTrue(ports.size() >= 6, files + ": published ports " + ports);
            ports.forEach((port, service) -> assertTrue(port.startsWith("127.0.0.1:"),
                    files + ": service " + service + " publishes " + port + " beyond 127.0.0.1"));

            Map<String, String> opened = publishedPorts(config(files, Map.of("SGDSCOPE_BIND_ADDRESS", "0.0.0.0")));
            assertEquals(ports.size(), opened.size(), files + ": ports with SGDSCOPE_BIND_ADDRESS");
            opened.forEach((port, service) -> assertTrue(port.startsWith("0.0.0.0:"),
                    files + ": service " + service + " ignores SGDSCOPE_BIND_ADDRESS: " + port));
        }
    }

    @Test
    void grafanaRequiresAnAdminPasswordAndKeepsAnonymousViewing() throws Exception {
        for (List<String> files : List.of(ONE_BROKER, THREE_BROKERS)) {
            List<String> args = new ArrayList<>(files);
            args.addAll(List.of("config", "-q"));
            Result withoutPassword = compose(args, Map.of());
            assertNotEquals(0, withoutPassword.exitCode(), files + " without GRAFANA_ADMIN_PASSWORD: " + withoutPassword.output());
            assertTrue(withoutPassword.output().contains("set GRAFANA_ADMIN_PASSWORD"),
                    files + " without GRAFANA_ADMIN_PASSWORD says why: " + withoutPassword.output());

            JsonNode grafana = config(files, Map.of()).path("services").path("grafana").path("environment");
            assertEquals(PASSWORD, grafana.path("GF_SECURITY_ADMIN_PASSWORD").asText(), "Grafana's admin password");
            assertEquals("true", grafana.path("GF_AUTH_ANONYMOUS_ENABLED").asText(), "anonymous viewing");
            assertEquals("Viewer", grafana.path("GF_AUTH_ANONYMOUS_ORG_ROLE").asText(), "anonymous users' role");
        }
    }

    @Test
    void noServiceEnablesPrometheusLifecycleApi() throws Exception {
        for (List<String> files : List.of(ONE_BROKER, THREE_BROKERS)) {
            JsonNode services = config(files, Map.of()).path("services");
            assertTrue(services.has("prometheus"), files + " has prometheus");
            services.fields().forEachRemaining(service -> {
                String commandLine = service.getValue().path("command").toString()
                        + service.getValue().path("entrypoint").toString();
                assertFalse(commandLine.contains("web.enable-lifecycle"),
                        files + ": " + service.getKey() + " enables the lifecycle API: " + commandLine);
            });
        }
    }

    @Test
    void alertmanagerResolvesTheHostOfItsWebhookOnLinux() throws Exception {
        String receiverHost = "host.docker.internal";
        assertTrue(Files.readString(TOP.resolve("dashboards/alertmanager/alertmanager.yml")).contains("http://" + receiverHost + ":"),
                "alertmanager.yml's webhook points at " + receiverHost);
        for (List<String> files : List.of(ONE_BROKER, THREE_BROKERS)) {
            JsonNode extraHosts = config(files, Map.of()).path("services").path("alertmanager").path("extra_hosts");
            // a list of "host:address" from one file, a mapping host -> address once files are merged
            List<String> entries = texts(extraHosts);
            extraHosts.fields().forEachRemaining(entry -> entries.add(entry.getKey() + ":" + entry.getValue().asText()));
            assertTrue(entries.contains(receiverHost + ":host-gateway"),
                    files + ": alertmanager's extra_hosts " + extraHosts + " lack " + receiverHost + ":host-gateway");
        }
    }

    @Test
    void everyKafkaNodeKeepsItsDataInItsVolume() throws Exception {
        for (List<String> files : List.of(ONE_BROKER, THREE_BROKERS)) {
            Map<String, JsonNode> nodes = kafkaNodes(config(files, Map.of()));
            assertFalse(nodes.isEmpty(), files + " has Kafka nodes");
            nodes.forEach((name, node) -> {
                String logDirs = node.path("environment").path("KAFKA_LOG_DIRS").asText();
                assertTrue(texts(node.path("volumes")).stream().anyMatch(v -> v.split(":")[1].equals(logDirs)),
                        files + ": " + name + "'s KAFKA_LOG_DIRS '" + logDirs + "' is not a volume: " + node.path("volumes"));
            });
        }
    }

    @Test
    void theOverrideRunsThreeBrokersReplicatingEverythingThatTheAppsWaitFor() throws Exception {
        JsonNode config = config(THREE_BROKERS, Map.of());
        JsonNode services = config.path("services");
        Map<String, JsonNode> brokers = kafkaNodes(config);
        brokers.values().removeIf(node -> !node.path("environment").path("KAFKA_PROCESS_ROLES").asText().contains("broker"));
        assertEquals(3, brokers.size(), "brokers: " + brokers.keySet());
        Map<String, String> expected = Map.of(
                "KAFKA_DEFAULT_REPLICATION_FACTOR", "3", // sgd.* topics and the Streams apps' internal ones
                "KAFKA_MIN_INSYNC_REPLICAS", "2",
                "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "3",
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "3",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "2");
        brokers.forEach((name, broker) -> {
            expected.forEach((key, value) -> assertEquals(value, broker.path("environment").path(key).asText(), name + " " + key));
            assertTrue(broker.path("healthcheck").path("test").toString().contains("--bootstrap-server localhost:9092"),
                    name + " has a healthcheck: " + broker.path("healthcheck"));
        });

        for (String app : List.of("streams", "trainer", "trainer-gpu")) {
            List<String> command = texts(services.path(app).path("command"));
            String bootstrap = command.get(command.indexOf("--bootstrap-servers") + 1);
            String replication = command.get(command.indexOf("--replication-factor") + 1);
            assertEquals("3", replication, app + "'s --replication-factor");
            for (String broker : brokers.keySet()) {
                assertTrue(bootstrap.contains(broker + ":9092"), app + "'s --bootstrap-servers " + bootstrap + " lacks " + broker);
                assertEquals("service_healthy", services.path(app).path("depends_on").path(broker).path("condition").asText(),
                        app + " waits for " + broker + " to be healthy");
            }
        }
    }

    @Test
    void theTrainerServicesRunWithTheLaunchersTrainOptions() throws Exception {
        String launcherOptions = Files.readAllLines(TOP.resolve("cli/jvm-options/train")).stream()
                .map(line -> line.replaceAll("#.*", "").trim()).filter(line -> !line.isEmpty())
                .collect(Collectors.joining(" "));
        java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("JDK_JAVA_OPTIONS: \"([^\"]*)\"")
                .matcher(Files.readString(TOP.resolve("docker-compose.yml")));
        int services = 0;
        while (matcher.find()) {
            assertEquals(launcherOptions, matcher.group(1), "docker-compose.yml's JDK_JAVA_OPTIONS");
            services++;
        }
        assertEquals(2, services, "trainer and trainer-gpu set JDK_JAVA_OPTIONS");
    }

    /** Services running the apache/kafka image, by name. */
    private static Map<String, JsonNode> kafkaNodes(JsonNode config) {
        Map<String, JsonNode> nodes = new HashMap<>();
        config.path("services").fields().forEachRemaining(service -> {
            if (service.getValue().path("image").asText().startsWith("apache/kafka:")) {
                nodes.put(service.getKey(), service.getValue());
            }
        });
        return nodes;
    }

    /** Every published port ("host-ip:published:target/protocol") with the service publishing it. */
    private static Map<String, String> publishedPorts(JsonNode config) {
        Map<String, String> ports = new HashMap<>();
        config.path("services").fields().forEachRemaining(service -> {
            for (JsonNode port : service.getValue().path("ports")) {
                // docker-compose 1.29 prints ports in the short syntax; the long one would have host_ip
                ports.put(port.isTextual() ? port.asText() : port.path("host_ip").asText("") + ":" + port.path("published").asText(),
                        service.getKey());
            }
        });
        return ports;
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        if (array.isArray()) {
            array.forEach(element -> texts.add(element.asText()));
        }
        return texts;
    }

    /** Configurations already resolved (docker-compose takes a second or two each time). */
    private static final Map<String, JsonNode> CONFIGS = new HashMap<>();

    /** The configuration as compose resolves it, with GRAFANA_ADMIN_PASSWORD set and the given variables. */
    private static JsonNode config(List<String> files, Map<String, String> variables) throws Exception {
        String key = files + " " + variables;
        if (!CONFIGS.containsKey(key)) {
            CONFIGS.put(key, resolve(files, variables));
        }
        return CONFIGS.get(key);
    }

    private static JsonNode resolve(List<String> files, Map<String, String> variables) throws Exception {
        Map<String, String> environment = new HashMap<>(variables);
        environment.put("GRAFANA_ADMIN_PASSWORD", PASSWORD);
        List<String> args = new ArrayList<>(files);
        args.add("config");
        Result result = compose(args, environment);
        assertEquals(0, result.exitCode(), "docker-compose " + String.join(" ", args) + ": " + result.output());
        return new ObjectMapper(new YAMLFactory()).readTree(result.output());
    }

    private static void assertValid(String... args) throws Exception {
        Result result = compose(List.of(args), Map.of("GRAFANA_ADMIN_PASSWORD", PASSWORD));
        assertEquals(0, result.exitCode(), "docker-compose " + String.join(" ", args) + ": " + result.output());
    }

    private record Result(int exitCode, String output) {}

    /** Runs docker-compose at the top of the repository with only the given compose variables set. */
    private static Result compose(List<String> args, Map<String, String> variables) throws Exception {
        Path emptyEnv = Files.write(emptyEnvDir.resolve("empty.env"), new byte[0]);
        List<String> command = new ArrayList<>(List.of("docker-compose", "--env-file", emptyEnv.toString()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).directory(TOP.toFile());
        builder.environment().remove("GRAFANA_ADMIN_PASSWORD");
        builder.environment().remove("SGDSCOPE_BIND_ADDRESS");
        builder.environment().putAll(variables);
        // stdout only: stderr carries warnings that are not YAML; kept apart and appended for the messages
        builder.redirectError(emptyEnvDir.resolve("stderr.txt").toFile());
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "docker-compose did not end within 60 s");
        String errors = Files.readString(emptyEnvDir.resolve("stderr.txt"));
        return new Result(process.exitValue(), process.exitValue() == 0 ? output : output + errors);
    }
}
