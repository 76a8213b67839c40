package io.sgdscope.embedded;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A secured embedded broker: its client listener speaks SASL_SSL with SCRAM-SHA-512 (and PLAIN, for librdkafka
 * before 2.6.1, whose SCRAM Kafka 4 refuses: librdkafka#4895; same users and passwords), ACLs are enforced by
 * KRaft's {@code StandardAuthorizer}, and only {@code superUser} may do anything without an ACL. The
 * controller listener stays PLAINTEXT on 127.0.0.1 (Kafka does not support SCRAM there); its principal,
 * {@code User:ANONYMOUS}, is a super user because the broker's own requests to the controller need it. Anyone
 * on this machine who finds the controller port could use it: this is a one-machine demo, not a deployment.
 *
 * <p>At start a new CA and a broker certificate (SANs 127.0.0.1 and localhost) are made and written to
 * {@code folder}, with a PKCS12 truststore and one {@code client-<user>.properties} per user (see
 * {@link SecurityFiles}). Each user's password is generated on the first start and kept in the folder's
 * {@code passwords.properties}: the SCRAM credentials are written into the cluster's metadata when the data
 * dir is formatted, so a broker restarted on the same data dir needs the same passwords.
 *
 * @param folder    where the certificates, the truststore and the client files go; created if missing
 * @param superUser the administrator's user name (a super user; also the broker's own inter-broker login)
 * @param users     the other users; each gets a password and a client file, but no ACL
 */
public record BrokerSecurity(Path folder, String superUser, List<String> users) {

    /** SCRAM user names are written into JAAS options and file names: keep them plain. */
    private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public BrokerSecurity {
        Objects.requireNonNull(folder, "folder");
        requireUserName(superUser);
        users = List.copyOf(users);
        users.forEach(BrokerSecurity::requireUserName);
        if (users.contains(superUser) || users.stream().distinct().count() != users.size()) {
            throw new IllegalArgumentException("user names must be distinct, got " + superUser + " and " + users);
        }
    }

    /** The super user first, then the others. */
    public List<String> allUsers() {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(superUser), users.stream()).toList();
    }

    private static void requireUserName(String name) {
        if (name == null || !USER_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a user name must be 1 to 64 characters of [A-Za-z0-9._-], got " + name);
        }
    }
}
