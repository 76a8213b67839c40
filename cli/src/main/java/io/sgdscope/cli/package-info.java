/**
 * The {@code sgdscope} command (picocli): {@code demo}, {@code train}, {@code streams}, {@code
 * replay}, {@code export}, {@code report}; their options, parsed into the settings records of the
 * other modules and validated with one-line errors, exit codes, signals, logging and the terminal
 * progress display. The one place that wires the modules together by hand: it may depend on every
 * other package of sgdscope, picocli, Kafka clients, Avro, Micrometer and Log4j.
 */
package io.sgdscope.cli;
