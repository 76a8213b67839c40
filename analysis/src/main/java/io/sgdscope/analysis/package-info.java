/**
 * Reading kept topics after the fact: a reader that returns a topic's contents as they were when the
 * read started (no consumer group, nothing committed), and the CSV export of one experiment (one file
 * per record type, readable by pandas and R without options). Depends on {@code io.sgdscope.schemas}
 * with its serde, Avro and Kafka clients; never on the trainer or the streams apps.
 */
package io.sgdscope.analysis;
