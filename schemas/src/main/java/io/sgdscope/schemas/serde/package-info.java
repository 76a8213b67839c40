/**
 * Reading and writing the records on Kafka: Avro's single-object encoding (marker, CRC-64-AVRO
 * fingerprint of the writer schema, body) as a Kafka serde per topic, and the catalogue of every
 * released schema version (the frozen copies under {@code io/sgdscope/schemas/history/}), so that a
 * reader accepts records written with any of them. Unreadable bytes give an {@link
 * io.sgdscope.schemas.serde.UnreadableRecordException} naming topic, partition and offset. Depends on
 * {@code io.sgdscope.schemas}, Avro and Kafka's serialization interfaces only.
 */
package io.sgdscope.schemas.serde;
