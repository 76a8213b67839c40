package io.sgdscope.embedded;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Optional;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A single-node Kafka cluster inside this JVM: Kafka's own KRaft server as combined broker and
 * controller (node id 1), listening on 127.0.0.1 only.
 *
 * <p>The data dir belongs to the caller: it is formatted on first use and reused as is afterwards,
 * so a broker started again on the same dir (after {@link #close()}) sees the same topics and records.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    private static final String HOST = "127.0.0.1";
    private static final int NODE_ID = 1;
    private static final String BROKER_LISTENER = "PLAINTEXT";
    private static final String SECURE_LISTENER = SecurityFiles.SECURITY_PROTOCOL;
    private static final String AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    /** Written by the formatter; its presence means "formatted" (and it holds the cluster id). */
    private static final String META_PROPERTIES = "meta.properties";
    /** Our own lock on the data dir, held while a broker of ours uses it. */
    private static final String LOCK_FILE = "embedded-kafka.lock";

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);
    private static final String CANNOT_START = "cannot start the embedded Kafka broker: ";

    private final KafkaRaftServer server;
    private final FileChannel dataDirLock;
    private final Path dataDir;
    private final int port;
    private final SecurityFiles securityFiles;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedKafkaBroker(KafkaRaftServer server, FileChannel dataDirLock, Path dataDir, int port,
                                SecurityFiles securityFiles) {
        this.server = server;
        this.dataDirLock = dataDirLock;
        this.dataDir = dataDir;
        this.port = port;
        this.securityFiles = securityFiles;
    }

    /**
     * Formats the data dir if needed, starts the server and returns once it answers an Admin
     * {@code describeCluster}.
     *
     * @throws EmbeddedKafkaException if the dir cannot be used, the port is taken, or the broker
     *                                does not answer within 60 s
     */
    public static EmbeddedKafkaBroker start(BrokerSettings settings) {
        Objects.requireNonNull(settings, "settings");
        long startNanos = System.nanoTime();
        Path dataDir = settings.dataDir().toAbsolutePath().normalize();
        prepareDataDir(dataDir);
        FileChannel dataDirLock = lockDataDir(dataDir);
        try {
            int port = settings.port() == 0 ? freePort(-1) : requireFree(settings.port());
            int controllerPort = freePort(port);
            SecurityFiles security = settings.security() == null ? null : SecurityFiles.create(settings.security());
            KafkaConfig config = config(dataDir, port, controllerPort, settings.overrides(), security);
            formatIfNeeded(dataDir, security);
            Map<String, Object> probe = new HashMap<>();
            if (security != null) {
                probe.putAll(security.clientProperties(security.security().superUser()));
            }
            probe.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, HOST + ":" + port);
            KafkaRaftServer server = startServer(config, probe);
            LOG.info("Embedded Kafka broker ready on {}:{}{} in {} ms (data dir {})", HOST, port,
                    security == null ? "" : " (SASL_SSL, SCRAM-SHA-512, ACLs)",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), dataDir);
            return new EmbeddedKafkaBroker(server, dataDirLock, dataDir, port, security);
        } catch (RuntimeException e) {
            closeQuietly(dataDirLock, e);
            throw e;
        }
    }

    private static KafkaRaftServer startServer(KafkaConfig config, Map<String, Object> probe) {
        KafkaRaftServer server;
        try {
            server = new KafkaRaftServer(config, Time.SYSTEM);
        } catch (RuntimeException e) {
            throw startupFailure(e);
        }
        try {
            server.startup();
            awaitAnswer(probe);
            return server;
        } catch (Exception e) { // Scala code also throws checked exceptions, e.g. a startup TimeoutException
            // A half-started server keeps its controller, threads and ports: stop it.
            try {
                shutdown(server);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e instanceof EmbeddedKafkaException known ? known : startupFailure(e);
        }
    }

    /** {@code "127.0.0.1:PORT"}, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The CA, truststore and client files of a secured broker; empty for a PLAINTEXT one. */
    public Optional<SecurityFiles> securityFiles() {
        return Optional.ofNullable(securityFiles);
    }

    /**
     * What a client needs to reach this broker: {@code bootstrap.servers}, plus for a secured broker the
     * SASL_SSL settings that log in as {@code user}.
     *
     * @param user ignored for a PLAINTEXT broker
     */
    public Map<String, Object> clientConfig(String user) {
        Map<String, Object> config = new HashMap<>();
        if (securityFiles != null) {
            config.putAll(securityFiles.clientProperties(user));
        }
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return config;
    }

    /**
     * Stops the server and waits for it (at most 30 s). Keeps the data dir. Idempotent.
     *
     * @throws EmbeddedKafkaException if the server did not stop cleanly; the data dir then stays
     *                                locked against other brokers of this JVM or other processes
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            shutdown(server);
            closeQuietly(dataDirLock, null);
            LOG.info("Embedded Kafka broker on {}:{} stopped", HOST, port);
        }
    }

    // --- configuration -------------------------------------------------------------------------

    private static KafkaConfig config(Path dataDir, int port, int controllerPort, Map<String, String> overrides,
                                      SecurityFiles security) {
        Map<String, Object> props = new LinkedHashMap<>();
        String listener = security == null ? BROKER_LISTENER : SECURE_LISTENER;
        props.put("process.roles", "broker,controller");
        props.put("node.id", String.valueOf(NODE_ID));
        props.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        props.put("listeners", listener + "://" + HOST + ":" + port + ","
                + CONTROLLER_LISTENER + "://" + HOST + ":" + controllerPort);
        props.put("advertised.listeners", listener + "://" + HOST + ":" + port);
        props.put("listener.security.protocol.map", listener + ":" + listener + "," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("inter.broker.listener.name", listener);
        if (security != null) {
            secure(props, security);
        }
        props.put("log.dirs", dataDir.toString());
        props.put("metadata.log.dir", dataDir.toString());

        // One broker: the internal topics' defaults (replication factor 3) would never be satisfied,
        // and consumer groups and transactions would never start.
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "5");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "5");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("auto.create.topics.enable", "false");

        // The log cleaner allocates its dedupe buffer on the heap at startup (128 MiB by default);
        // 16 MiB is plenty for the demo's compacted topics and spares the JVM we share.
        props.put("log.cleaner.dedupe.buffer.size", String.valueOf(16 * 1024 * 1024));
        // Without this, startup() waits forever if the broker never gets unfenced.
        props.put("server.max.startup.time.ms", String.valueOf(READY_TIMEOUT.toMillis()));

        props.putAll(overrides);
        try {
            return new KafkaConfig(props, false); // false: don't log the whole configuration
        } catch (RuntimeException e) {
            throw new EmbeddedKafkaException(CANNOT_START + "invalid configuration: " + oneLine(e), e);
        }
    }

    /**
     * SASL_SSL with SCRAM-SHA-512 on the client listener, the KRaft authorizer, and the super user as the
     * broker's own login on it (the transaction coordinator sends its markers to the partition leaders through
     * it, here to itself). The controller listener stays PLAINTEXT on loopback; its principal, ANONYMOUS, must be
     * a super user for the broker's registration and heartbeats to the controller to be authorized.
     */
    private static void secure(Map<String, Object> props, SecurityFiles security) {
        String superUser = security.security().superUser();
        String prefix = "listener.name." + SECURE_LISTENER.toLowerCase(Locale.ROOT) + ".";
        props.put("sasl.enabled.mechanisms", SecurityFiles.SASL_MECHANISM + "," + SecurityFiles.PLAIN_MECHANISM);
        props.put("sasl.mechanism.inter.broker.protocol", SecurityFiles.SASL_MECHANISM);
        props.put(prefix + SecurityFiles.SASL_MECHANISM.toLowerCase(Locale.ROOT) + ".sasl.jaas.config",
                SecurityFiles.jaasConfig(superUser, security.password(superUser)));
        // PLAIN (inside TLS) with the same users and passwords, for librdkafka before 2.6.1 (Debian 12's kcat):
        // its SCRAM client-final message repeats the client nonce, which Kafka 4 rejects (librdkafka#4895).
        StringBuilder plain = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
        for (String user : security.security().allUsers()) {
            plain.append(" user_").append(user).append("=\"").append(security.password(user)).append('"');
        }
        props.put(prefix + SecurityFiles.PLAIN_MECHANISM.toLowerCase(Locale.ROOT) + ".sasl.jaas.config", plain.append(';').toString());
        props.put(prefix + "ssl.keystore.type", "PKCS12");
        props.put(prefix + "ssl.keystore.location", security.keystore().toString());
        props.put(prefix + "ssl.keystore.password", security.storePassword());
        props.put(prefix + "ssl.key.password", security.storePassword());
        // The broker as client of its own listener checks the certificate like any client.
        props.put(prefix + "ssl.truststore.type", "PKCS12");
        props.put(prefix + "ssl.truststore.location", security.truststore().toString());
        props.put(prefix + "ssl.truststore.password", security.storePassword());
        props.put("authorizer.class.name", AUTHORIZER);
        props.put("super.users", "User:" + superUser + ";User:ANONYMOUS");
        props.put("allow.everyone.if.no.acl.found", "false");
    }

    // --- data dir ------------------------------------------------------------------------------

    private static void prepareDataDir(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new EmbeddedKafkaException(CANNOT_START + "cannot create the data dir " + dataDir
                    + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
        }
        if (!Files.isWritable(dataDir)) {
            throw new EmbeddedKafkaException(CANNOT_START + "the data dir " + dataDir + " is not writable");
        }
    }

    /**
     * Kafka locks the data dir (its {@code .lock}) only when the broker part starts, after the
     * controller part has already opened the metadata log in it. A second broker on a dir in use
     * would thus write into the first one's metadata log before failing: lock the dir ourselves first.
     */
    private static FileChannel lockDataDir(Path dataDir) {
        FileChannel channel;
        try {
            channel = FileChannel.open(dataDir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new EmbeddedKafkaException(CANNOT_START + "cannot write in the data dir " + dataDir
                    + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
        }
        try {
            if (channel.tryLock() != null) {
                return channel;
            }
        } catch (OverlappingFileLockException e) {
            // held by another broker in this JVM: same answer as for another process below
        } catch (IOException e) {
            closeQuietly(channel, e);
            throw new EmbeddedKafkaException(CANNOT_START + "cannot lock the data dir " + dataDir
                    + " (" + e.getMessage() + ")", e);
        }
        closeQuietly(channel, null);
        throw new EmbeddedKafkaException(CANNOT_START + "the data dir " + dataDir + " is in use by another broker");
    }

    private static void closeQuietly(FileChannel channel, Exception failure) {
        try {
            channel.close(); // also releases the lock
        } catch (IOException e) {
            if (failure != null) {
                failure.addSuppressed(e);
            } else {
                LOG.warn("Cannot release the data dir lock {}", channel, e);
            }
        }
    }

    /**
     * Formats a fresh data dir with a new cluster id; a formatted one is left alone, so its
     * meta.properties keeps the cluster id of the first start and the server reuses the data.
     */
    private static void formatIfNeeded(Path dataDir, SecurityFiles security) {
        if (Files.exists(dataDir.resolve(META_PROPERTIES))) {
            return;
        }
        String dir = dataDir.toString();
        Formatter formatter = new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream())) // it prints to stdout
                .setNodeId(NODE_ID)
                .setClusterId(Uuid.randomUuid().toString())
                .setControllerListenerName(CONTROLLER_LISTENER)
                .addDirectory(dir)
                .setMetadataLogDirectory(dir)
                .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION);
        if (security != null) {
            // KIP-900: the users' SCRAM credentials go into the bootstrap metadata (kafka-storage format --add-scram),
            // so that they exist before the first client, and the broker's own login, connects.
            formatter.setScramArguments(security.security().allUsers().stream()
                    .map(user -> SecurityFiles.SASL_MECHANISM + "=[name=" + user + ",password=" + security.password(user) + "]")
                    .toList());
        }
        try {
            formatter.run();
        } catch (Exception e) {
            throw new EmbeddedKafkaException(CANNOT_START + "cannot format the data dir " + dir + ": " + oneLine(e), e);
        }
    }

    // --- ports ---------------------------------------------------------------------------------

    /** Fails with a clear message if the caller's fixed port is taken (Kafka's own error is buried in logs). */
    private static int requireFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true); // as Kafka's acceptor does: a port in TIME_WAIT is fine
            socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
            return port;
        } catch (BindException e) {
            String reason = e.getMessage() != null && e.getMessage().contains("in use")
                    ? "is in use" : "cannot be bound (" + e.getMessage() + ")"; // e.g. a port below 1024
            throw new EmbeddedKafkaException(CANNOT_START + "port " + port + " on " + HOST + " " + reason, e);
        } catch (IOException e) {
            throw new EmbeddedKafkaException(CANNOT_START + "cannot check port " + port + " on " + HOST
                    + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * A port that is free right now. The static voter list needs the controller port before the
     * server binds it, so we cannot let Kafka pick with port 0.
     */
    private static int freePort(int avoid) {
        for (int attempt = 0; attempt < 10; attempt++) {
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
                int port = socket.getLocalPort();
                if (port != avoid) {
                    return port;
                }
            } catch (IOException e) {
                throw new EmbeddedKafkaException(CANNOT_START + "no free port on " + HOST + " (" + e.getMessage() + ")", e);
            }
        }
        throw new EmbeddedKafkaException(CANNOT_START + "no free port on " + HOST);
    }

    // --- readiness and shutdown ----------------------------------------------------------------

    /** Returns once an Admin client sees the broker in describeCluster, or fails after READY_TIMEOUT. */
    private static void awaitAnswer(Map<String, Object> probe) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String bootstrapServers = (String) probe.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
        Map<String, Object> config = new HashMap<>(probe);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000);
        Admin admin = Admin.create(config);
        try {
            Exception last = null;
            while (System.nanoTime() < deadline) {
                try {
                    if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    last = e;
                }
                Thread.sleep(100);
            }
            throw new EmbeddedKafkaException(CANNOT_START + "it did not answer on " + bootstrapServers
                    + " within " + READY_TIMEOUT.toSeconds() + " s", last);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddedKafkaException(CANNOT_START + "interrupted while waiting for it to answer", e);
        } finally {
            admin.close(Duration.ofSeconds(5));
        }
    }

    /**
     * Shuts the server down on a helper thread so that a stuck shutdown cannot hang the caller
     * for more than SHUTDOWN_TIMEOUT.
     */
    private static void shutdown(KafkaRaftServer server) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread stopper = new Thread(() -> {
            try {
                server.shutdown();
                server.awaitShutdown();
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "embedded-kafka-shutdown");
        stopper.setDaemon(true);
        stopper.start();
        try {
            stopper.join(SHUTDOWN_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddedKafkaException("interrupted while stopping the embedded Kafka broker", e);
        }
        if (stopper.isAlive()) {
            throw new EmbeddedKafkaException("the embedded Kafka broker did not stop within "
                    + SHUTDOWN_TIMEOUT.toSeconds() + " s");
        }
        if (failure.get() != null) {
            throw new EmbeddedKafkaException("the embedded Kafka broker failed to stop: " + oneLine(failure.get()),
                    failure.get());
        }
    }

    // --- error messages ------------------------------------------------------------------------

    private static EmbeddedKafkaException startupFailure(Throwable e) {
        // A bind failure surfaces wrapped in generic messages; the one around the BindException
        // names the address ("Socket server failed to bind to 127.0.0.1:9092: Address already in use.").
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getCause() instanceof BindException) {
                return new EmbeddedKafkaException(CANNOT_START + oneLine(t), e);
            }
        }
        return new EmbeddedKafkaException(CANNOT_START + oneLine(e), e);
    }

    /**
     * The outermost non-blank message of the cause chain, on one line: Kafka's outer messages
     * usually carry the context, the root causes often don't.
     */
    private static String oneLine(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (message != null && !message.isBlank()) {
                return message.strip().replaceAll("\\s*\\R\\s*", " ");
            }
        }
        return e.getClass().getName();
    }
}
