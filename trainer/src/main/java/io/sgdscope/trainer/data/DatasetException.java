package io.sgdscope.trainer.data;

/**
 * A dataset cannot be read: files missing, truncated or not in the expected format. The message is
 * one line that names the file and, for missing files, what is expected where.
 */
public final class DatasetException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
