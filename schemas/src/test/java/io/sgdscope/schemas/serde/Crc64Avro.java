package io.sgdscope.schemas.serde;

import java.nio.charset.StandardCharsets;

/** Test reference: the 64-bit Rabin fingerprint of the Avro specification ("Schema Fingerprints"), written from the spec. */
final class Crc64Avro {

    private static final long EMPTY = 0xc15d213aa4d7a795L;
    private static final long[] TABLE = new long[256];

    static {
        for (int i = 0; i < 256; i++) {
            long fp = i;
            for (int j = 0; j < 8; j++) {
                fp = (fp >>> 1) ^ (EMPTY & -(fp & 1L));
            }
            TABLE[i] = fp;
        }
    }

    private Crc64Avro() {}

    static long of(String canonicalForm) {
        long fp = EMPTY;
        for (byte b : canonicalForm.getBytes(StandardCharsets.UTF_8)) {
            fp = (fp >>> 8) ^ TABLE[(int) (fp ^ b) & 0xff];
        }
        return fp;
    }
}
