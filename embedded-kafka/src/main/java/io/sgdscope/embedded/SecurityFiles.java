package io.sgdscope.embedded;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The files a secured embedded broker writes for its clients, made at start (see {@link BrokerSecurity}):
 * {@code ca.pem} (the CA certificate, for kcat, Python and other non-Java clients), {@code truststore.p12}
 * (the same CA for Java clients), {@code client-<user>.properties} (Java client properties: SASL_SSL,
 * SCRAM-SHA-512, the user's JAAS login, the truststore), {@code passwords.properties} and the broker's own
 * {@code broker.p12} key store. Keys are EC P-256; the certificates are valid for 30 days.
 */
public final class SecurityFiles {

    public static final String SECURITY_PROTOCOL = "SASL_SSL";
    public static final String SASL_MECHANISM = "SCRAM-SHA-512";
    /** Also offered on the listener, for clients whose SCRAM Kafka 4 refuses (librdkafka before 2.6.1). */
    public static final String PLAIN_MECHANISM = "PLAIN";
    static final String SCRAM_LOGIN_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule";

    private static final String PASSWORDS = "passwords.properties";
    private static final Duration VALIDITY = Duration.ofDays(30);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final BrokerSecurity security;
    private final Map<String, String> passwords;
    private final String storePassword;

    private SecurityFiles(BrokerSecurity security, Map<String, String> passwords, String storePassword) {
        this.security = security;
        this.passwords = Map.copyOf(passwords);
        this.storePassword = storePassword;
    }

    /**
     * Makes a new CA and broker certificate and writes every file; passwords already in the folder are kept.
     *
     * @throws EmbeddedKafkaException if the folder cannot be written or the certificates cannot be made
     */
    static SecurityFiles create(BrokerSecurity security) {
        Path folder = security.folder().toAbsolutePath().normalize();
        try {
            Files.createDirectories(folder);
            Map<String, String> passwords = passwords(folder.resolve(PASSWORDS), security);
            SecurityFiles files = new SecurityFiles(new BrokerSecurity(folder, security.superUser(), security.users()),
                    passwords, newSecret());
            files.writeCertificates();
            for (String user : security.allUsers()) {
                writePrivate(files.clientPropertiesFile(user), files.clientPropertiesText(user));
            }
            return files;
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new EmbeddedKafkaException("cannot start the embedded Kafka broker: cannot write its security files in "
                    + folder + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
        }
    }

    public Path folder() {
        return security.folder();
    }

    /** The CA certificate, PEM. */
    public Path caPem() {
        return folder().resolve("ca.pem");
    }

    /** The CA certificate in a PKCS12 truststore, for Java clients. */
    public Path truststore() {
        return folder().resolve("truststore.p12");
    }

    /** The password of the truststore (also in every client file). */
    public String truststorePassword() {
        return storePassword;
    }

    public Path clientPropertiesFile(String user) {
        password(user); // rejects unknown users
        return folder().resolve("client-" + user + ".properties");
    }

    /** @throws IllegalArgumentException for a user the broker does not know */
    public String password(String user) {
        String password = passwords.get(user);
        if (password == null) {
            throw new IllegalArgumentException("no such user: " + user + " (users: " + security.allUsers() + ")");
        }
        return password;
    }

    /** The contents of {@link #clientPropertiesFile}: Java client properties that log in as {@code user}. */
    public Map<String, String> clientProperties(String user) {
        return clientProperties(user, password(user));
    }

    /** Client properties that log in as {@code user} with any password (tests: a wrong one). */
    public Map<String, String> clientProperties(String user, String password) {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("security.protocol", SECURITY_PROTOCOL);
        properties.put("sasl.mechanism", SASL_MECHANISM);
        properties.put("sasl.jaas.config", jaasConfig(user, password));
        properties.put("ssl.truststore.location", truststore().toString());
        properties.put("ssl.truststore.type", "PKCS12");
        properties.put("ssl.truststore.password", storePassword);
        return properties;
    }

    BrokerSecurity security() {
        return security;
    }

    Path keystore() {
        return folder().resolve("broker.p12");
    }

    /** The key store's, its key's and the truststore's password. */
    String storePassword() {
        return storePassword;
    }

    static String jaasConfig(String user, String password) {
        return SCRAM_LOGIN_MODULE + " required username=\"" + user + "\" password=\"" + password + "\";";
    }

    private String clientPropertiesText(String user) {
        StringBuilder text = new StringBuilder()
                .append("# Kafka client properties for user ").append(user)
                .append(" of the secured embedded broker (Java clients; sgdscope --kafka-config).\n")
                .append("# Non-Java clients: SASL_SSL, SCRAM-SHA-512, this user and password, CA file ")
                .append(caPem()).append('\n');
        clientProperties(user).forEach((key, value) ->
                text.append(key).append('=').append(value.replace("\\", "\\\\")).append('\n'));
        return text.toString();
    }

    // --- certificates --------------------------------------------------------------------------

    private void writeCertificates() throws GeneralSecurityException, IOException, OperatorCreationException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        KeyPair caKeys = generator.generateKeyPair();
        KeyPair brokerKeys = generator.generateKeyPair();
        Instant now = Instant.now();
        Date notBefore = Date.from(now.minus(Duration.ofHours(1))); // tolerate a little clock skew
        Date notAfter = Date.from(now.plus(VALIDITY));
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();

        X500Name caName = new X500Name("CN=sgdscope embedded Kafka CA " + now.getEpochSecond());
        X509v3CertificateBuilder caBuilder = new JcaX509v3CertificateBuilder(caName, serial(), notBefore, notAfter, caName,
                caKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(caKeys.getPublic()));
        X509Certificate ca = sign(caBuilder, caKeys);

        X509v3CertificateBuilder brokerBuilder = new JcaX509v3CertificateBuilder(ca, serial(), notBefore, notAfter,
                new X500Name("CN=localhost"), brokerKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                .addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}))
                .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(brokerKeys.getPublic()))
                .addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(ca));
        X509Certificate broker = sign(brokerBuilder, caKeys);

        char[] secret = storePassword.toCharArray();
        KeyStore keystore = KeyStore.getInstance("PKCS12");
        keystore.load(null, null);
        keystore.setKeyEntry("broker", brokerKeys.getPrivate(), secret, new Certificate[] {broker, ca});
        store(keystore, keystore(), secret);

        KeyStore truststore = KeyStore.getInstance("PKCS12");
        truststore.load(null, null);
        truststore.setCertificateEntry("ca", ca);
        store(truststore, truststore(), secret);

        String pem = "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(ca.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
        Files.writeString(caPem(), pem);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
    }

    private static BigInteger serial() {
        return new BigInteger(64, RANDOM).add(BigInteger.ONE);
    }

    private static void store(KeyStore store, Path file, char[] password) throws IOException, GeneralSecurityException {
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, password);
        }
        restrict(file);
    }

    // --- passwords -----------------------------------------------------------------------------

    /** The folder's passwords, with new ones for users that have none yet; written back to the file. */
    private static Map<String, String> passwords(Path file, BrokerSecurity security) throws IOException {
        Properties stored = new Properties();
        if (Files.exists(file)) {
            try (Reader reader = Files.newBufferedReader(file)) {
                stored.load(reader);
            }
        }
        Map<String, String> passwords = new LinkedHashMap<>();
        StringBuilder text = new StringBuilder("# SCRAM-SHA-512 passwords of the embedded broker's users, made at the first start\n");
        for (String user : security.allUsers()) {
            String password = stored.getProperty(user);
            passwords.put(user, password != null && !password.isBlank() ? password : newSecret());
            text.append(user).append('=').append(passwords.get(user)).append('\n');
        }
        writePrivate(file, text.toString());
        return passwords;
    }

    /** 24 random bytes, URL-safe base64 (32 characters: no quote or backslash to escape in JAAS or properties). */
    private static String newSecret() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static void writePrivate(Path file, String text) throws IOException {
        Files.writeString(file, text);
        restrict(file);
    }

    /** Owner read/write only, where the file system knows POSIX permissions. */
    private static void restrict(Path file) throws IOException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
    }
}
