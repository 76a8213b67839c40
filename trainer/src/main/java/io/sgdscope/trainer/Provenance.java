package io.sgdscope.trainer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where and with what software the runs are made ({@code RunStarted.backend, device, host, versions}).
 *
 * @param backend  the ND4J backend that computes, e.g. "CPU" or "CUDA"
 * @param device   the CPU model for the CPU backend when known, else null
 * @param host     host name when known, else null
 * @param versions sgdscope, nd4j, kafka-clients and java versions
 */
public record Provenance(String backend, String device, String host, Map<String, String> versions) {

    private static final String UNKNOWN = "unknown";

    public Provenance {
        versions = Map.copyOf(versions);
    }

    /** Looks at the running process. */
    public static Provenance detect() {
        String backend = detectBackend();
        Map<String, String> versions = new LinkedHashMap<>();
        versions.put("sgdscope", version(Provenance.class, "version.properties"));
        versions.put("nd4j", version(Nd4j.class, "/META-INF/maven/org.nd4j/nd4j-api/pom.properties"));
        versions.put("kafka-clients", version(KafkaProducer.class, "/kafka/kafka-version.properties"));
        versions.put("java", System.getProperty("java.version"));
        return new Provenance(backend, "CPU".equals(backend) ? cpuModel() : null, detectHost(), versions);
    }

    private static String detectBackend() {
        Object reported = Nd4j.getExecutioner().getEnvironmentInformation().get("backend");
        if (reported != null) {
            return reported.toString();
        }
        // e.g. CpuBackend -> CPU
        return Nd4j.getBackend().getClass().getSimpleName().replace("Backend", "").toUpperCase(java.util.Locale.ROOT);
    }

    /** The "version" property of a properties resource next to {@code anchor}, or "unknown". */
    private static String version(Class<?> anchor, String resource) {
        try (InputStream in = anchor.getResourceAsStream(resource)) {
            if (in != null) {
                Properties properties = new Properties();
                properties.load(in);
                return properties.getProperty("version", UNKNOWN);
            }
        } catch (IOException e) {
            // fall through
        }
        return UNKNOWN;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable
        }
        return null;
    }

    private static String detectHost() {
        String fromEnvironment = System.getenv("HOSTNAME");
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return null;
        }
    }
}
