/**
 * A single-node Kafka cluster inside the JVM: Kafka's own KRaft server as combined broker and
 * controller on 127.0.0.1, with a data folder owned by the caller, set up for one broker (internal
 * topics with replication factor 1). The broker of {@code sgdscope demo}, of {@code --embedded DIR},
 * and of every integration test. Optionally secured ({@link io.sgdscope.embedded.BrokerSecurity}): a SASL_SSL
 * client listener with SCRAM-SHA-512 users, a CA made at start, ACLs enforced. Depends on Kafka (its KRaft server
 * and admin client), BouncyCastle (certificates) and SLF4J only; knows nothing of sgdscope's records or topics.
 */
package io.sgdscope.embedded;
