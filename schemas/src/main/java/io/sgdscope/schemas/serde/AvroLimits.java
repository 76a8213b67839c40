package io.sgdscope.schemas.serde;

import org.apache.avro.SystemLimitException;

/**
 * Limits on what one Avro record may claim while it is decoded, so that a small corrupt or hostile record
 * cannot make the reader allocate a huge string, byte array or array (Avro's defaults allow about 2^31
 * items). A record that claims more fails to decode with a {@link SystemLimitException}, which
 * {@link TelemetrySerde} reports as an {@link UnreadableRecordException} (the streams apps dead-letter it).
 *
 * <p>Avro reads the {@code org.apache.avro.limits.*} system properties once, when {@link SystemLimitException}
 * is first loaded, so {@link #install()} must run before the first decode: {@link TelemetrySerde} installs
 * them when it is loaded, and the command line at start. A property set on the command line
 * ({@code -Dorg.apache.avro.limits.string.maxLength=...}) wins.
 */
public final class AvroLimits {

    /**
     * Longest string or byte array: the largest record a telemetry topic takes (sgd.spectra's
     * {@code max.message.bytes}, 8 MiB).
     */
    public static final int MAX_LENGTH = 8 * 1024 * 1024;

    /** Most items of one array or map: 8 MiB of doubles. Telemetry's arrays hold tens of items. */
    public static final int MAX_COLLECTION_ITEMS = MAX_LENGTH / Double.BYTES;

    private AvroLimits() {}

    /** Sets the limits as system properties, keeping any the user set. */
    public static void install() {
        setIfAbsent(SystemLimitException.MAX_STRING_LENGTH_PROPERTY, MAX_LENGTH);
        setIfAbsent(SystemLimitException.MAX_BYTES_LENGTH_PROPERTY, MAX_LENGTH);
        setIfAbsent(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY, MAX_COLLECTION_ITEMS);
    }

    private static void setIfAbsent(String property, int value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, String.valueOf(value));
        }
    }
}
