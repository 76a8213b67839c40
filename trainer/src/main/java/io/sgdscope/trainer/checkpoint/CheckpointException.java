package io.sgdscope.trainer.checkpoint;

/** A checkpoint cannot be written or read (I/O error, a damaged or foreign file). One line naming the file. */
public final class CheckpointException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
