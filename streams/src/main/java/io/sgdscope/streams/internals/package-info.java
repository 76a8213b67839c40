/**
 * Implementation details the two apps share and nobody else reads: the byte formats of their internal
 * topics and state stores, processor suppliers that declare their stores, and {@link
 * io.sgdscope.streams.internals.WriteBackStore} (decoded state in memory, written to its changelogged
 * store once per commit). Not a public format. Depends on Kafka Streams only.
 */
package io.sgdscope.streams.internals;
