package io.sgdscope.cli;

/**
 * A failure the user can act on, reported as one line ("sgdscope: error: ...") and a non-zero exit
 * code, without a stack trace unless --verbose is given.
 */
public final class SgdscopeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public SgdscopeException(String message) {
        super(message);
    }

    public SgdscopeException(String message, Throwable cause) {
        super(message, cause);
    }
}
