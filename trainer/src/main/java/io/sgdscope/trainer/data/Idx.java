package io.sgdscope.trainer.data;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The IDX format of the MNIST files: a 4-byte magic (0, 0, the element type, the number of
 * dimensions), the dimensions as big-endian 32-bit integers, then the elements. Only unsigned bytes
 * (type 0x08) occur in MNIST and only those are read.
 */
final class Idx {

    private static final int UNSIGNED_BYTE = 0x08;

    /** An IDX array of unsigned bytes: its dimensions and its elements in row-major order. */
    record UnsignedBytes(int[] dimensions, byte[] data) {

        int count() {
            return dimensions[0];
        }

        /** Elements per item: the product of all dimensions but the first. */
        int itemSize() {
            int size = 1;
            for (int i = 1; i < dimensions.length; i++) {
                size *= dimensions[i];
            }
            return size;
        }
    }

    private Idx() {}

    /**
     * Reads an IDX file of unsigned bytes whose dimensions must number {@code rank}.
     *
     * @throws DatasetException if the file is not such an IDX file, or is truncated
     */
    static UnsignedBytes read(Path file, int rank) {
        try (DataInputStream in = DataFiles.open(file)) {
            byte[] magic = new byte[4];
            DataFiles.readFully(in, magic, file, "the IDX header");
            if (magic[0] != 0 || magic[1] != 0 || magic[2] != UNSIGNED_BYTE || magic[3] != rank) {
                throw new DatasetException(file.getFileName() + " is not an IDX file of unsigned bytes with " + rank
                        + " dimensions (magic " + String.format("%02x %02x %02x %02x", magic[0], magic[1], magic[2], magic[3])
                        + ", expected 00 00 08 " + String.format("%02x", rank) + ")");
            }
            byte[] header = new byte[4 * rank];
            DataFiles.readFully(in, header, file, "the IDX dimensions");
            int[] dimensions = new int[rank];
            long total = 1;
            for (int i = 0; i < rank; i++) {
                dimensions[i] = ((header[4 * i] & 0xff) << 24) | ((header[4 * i + 1] & 0xff) << 16)
                        | ((header[4 * i + 2] & 0xff) << 8) | (header[4 * i + 3] & 0xff);
                if (dimensions[i] <= 0) {
                    throw new DatasetException(file.getFileName() + " has a bad IDX dimension " + dimensions[i]);
                }
                total *= dimensions[i];
            }
            if (total > Integer.MAX_VALUE - 8) {
                throw new DatasetException(file.getFileName() + " is too large: " + Arrays.toString(dimensions));
            }
            byte[] data = new byte[(int) total];
            DataFiles.readFully(in, data, file, "data of dimensions " + Arrays.toString(dimensions));
            return new UnsignedBytes(dimensions, data);
        } catch (IOException e) {
            throw new DatasetException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
