package io.sgdscope.embedded;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * How to start an {@link EmbeddedKafkaBroker}.
 *
 * @param dataDir   the broker's log directory; owned by the caller, created if missing, never deleted
 * @param port      the PLAINTEXT listener port on 127.0.0.1, or 0 to pick a free one
 * @param overrides broker properties applied after the embedded defaults (null means none)
 * @param security  null for a PLAINTEXT listener open to all; otherwise a SASL_SSL listener with ACLs
 */
public record BrokerSettings(Path dataDir, int port, Map<String, String> overrides, BrokerSecurity security) {

    /** Settings of a PLAINTEXT broker. */
    public BrokerSettings(Path dataDir, int port, Map<String, String> overrides) {
        this(dataDir, port, overrides, null);
    }

    public BrokerSettings {
        Objects.requireNonNull(dataDir, "dataDir");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be in 0..65535, was " + port);
        }
        // Immutable copy; Map.copyOf also rejects null keys and values.
        overrides = overrides == null ? Map.of() : Map.copyOf(overrides);
    }

    /** A free port picked at start, no overrides. */
    public static BrokerSettings of(Path dataDir) {
        return new BrokerSettings(dataDir, 0, Map.of());
    }

    /** The same settings on another port, e.g. to restart on the port a previous broker used. */
    public BrokerSettings withPort(int newPort) {
        return new BrokerSettings(dataDir, newPort, overrides, security);
    }

    /** The same settings with a secured client listener (null: PLAINTEXT). */
    public BrokerSettings withSecurity(BrokerSecurity newSecurity) {
        return new BrokerSettings(dataDir, port, overrides, newSecurity);
    }
}
