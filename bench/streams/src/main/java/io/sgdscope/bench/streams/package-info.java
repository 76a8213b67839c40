/**
 * The streams benchmark harness ({@code bench/streams/README.md}): a pre-filled sgd.iterations as an
 * ensemble publishes it, then a plain consumer, Kafka Streams doing nothing, each app and both apps
 * reading it, end-to-end latency and state size. Built by its own POM, outside the reactor. Depends on
 * {@code io.sgdscope.streams} and its subpackages, {@code io.sgdscope.embedded}, {@code
 * io.sgdscope.schemas} with its serde, Kafka and Micrometer.
 */
package io.sgdscope.bench.streams;
