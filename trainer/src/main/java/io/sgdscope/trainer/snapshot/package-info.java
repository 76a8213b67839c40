/**
 * Snapshot folders for offline checking ({@code --snapshot-at}): theta_t, theta_0, the data as {@code
 * .npy} files and the published values as JSON, in the format of {@code docs/snapshots.md}, and
 * reading them back. Depends on ND4J, Jackson, {@code io.sgdscope.trainer.model} (the layout) and the
 * record classes of {@code io.sgdscope.schemas} (whose published values it copies); not on Kafka.
 */
package io.sgdscope.trainer.snapshot;
