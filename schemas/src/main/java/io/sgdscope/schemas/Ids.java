package io.sgdscope.schemas;

/**
 * The rule for run and experiment ids, shared by where ids enter: the trainer's {@code --experiment}
 * and the streams apps reading records. An id is 1 to {@value #MAX_LENGTH} of the characters
 * {@code A-Z a-z 0-9 . _ -}, and not {@code .} or {@code ..}: ids name checkpoint folders and files,
 * prefix record keys and become Prometheus label values, so they must be short and safe as a path.
 */
public final class Ids {

    /** The longest id, in characters (all ASCII, so also in bytes). */
    public static final int MAX_LENGTH = 100;

    private Ids() {}

    /**
     * What is wrong with an id, or null if it is valid.
     *
     * @param kind what the id is, for the message: "run id", "experiment id"
     */
    public static String problem(String kind, String id) {
        if (id == null || id.isEmpty()) {
            return kind + " is missing";
        }
        if (id.length() > MAX_LENGTH) {
            return kind + " is " + id.length() + " characters long, at most " + MAX_LENGTH + " allowed ('"
                    + printable(id.substring(0, 20)) + "...')";
        }
        if (!allowedCharacters(id)) {
            return kind + " '" + printable(id) + "' has characters other than A-Z a-z 0-9 . _ -";
        }
        if (id.equals(".") || id.equals("..")) {
            return kind + " must not be '" + id + "' (it names a folder)";
        }
        return null;
    }

    /** The id with anything but printable ASCII shown as '?', so that a message stays one line. */
    private static String printable(String id) {
        return id.replaceAll("[^\\x20-\\x7E]", "?");
    }

    /** Whether an id follows the rule (cheap: the streams apps ask for every record). */
    public static boolean isValid(String id) {
        return id != null && !id.isEmpty() && id.length() <= MAX_LENGTH && allowedCharacters(id)
                && !id.equals(".") && !id.equals("..");
    }

    private static boolean allowedCharacters(String id) {
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean allowed = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-';
            if (!allowed) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns the id if it is valid.
     *
     * @throws IllegalArgumentException with one line saying what is wrong
     */
    public static String require(String kind, String id) {
        String problem = problem(kind, id);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return id;
    }
}
