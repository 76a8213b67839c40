import io.sgdscope.embedded.BrokerSettings;
import io.sgdscope.embedded.EmbeddedKafkaBroker;
import io.sgdscope.schemas.TopicVisibility;
import io.sgdscope.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * The ensemble benchmark's broker in a process of its own (bench/ensemble/README.md, "Publishing cost"): an
 * embedded Kafka broker (KRaft) with the sgd.* topics (4 partitions each), so that the trainer's process CPU time
 * holds the trainer's publishing work and not the broker's. Prints {@code BOOTSTRAP host:port} once the topics are
 * visible, then serves until its standard input closes.
 */
public final class BenchBroker {

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("sgdscope-bench-broker");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(BrokerSettings.of(dir))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                List<NewTopic> topics = new ArrayList<>();
                for (Topics.Spec spec : Topics.all()) {
                    topics.add(new NewTopic(spec.name(), 4, (short) 1).configs(spec.config()));
                }
                admin.createTopics(topics).all().get();
                TopicVisibility.await(admin, topics.stream().map(NewTopic::name).toList(), TopicVisibility.WAIT,
                        Duration.ofSeconds(30));
            }
            System.out.println("BOOTSTRAP " + broker.bootstrapServers());
            System.out.flush();
            while (System.in.read() >= 0) {
                // Serve until the benchmark closes our standard input.
            }
        }
    }
}
