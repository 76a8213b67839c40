package io.sgdscope.client;

/** Telemetry could not be handed over at all (e.g. no broker answered in time): training without it is pointless. */
public class TelemetryException extends RuntimeException {

    public TelemetryException(String message) {
        super(message);
    }

    public TelemetryException(String message, Throwable cause) {
        super(message, cause);
    }
}
