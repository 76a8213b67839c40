/**
 * The deviation app's topology and checks: Theorem 1's interval and allowance with the binomial window
 * test, Theorem 2's martingale envelope, Theorem 3's super-martingale condition and divergence ({@code
 * docs/deviation-checks.md}), as pure functions ({@link io.sgdscope.streams.deviation.Theorem1},
 * {@link io.sgdscope.streams.deviation.Theorem2}, {@link io.sgdscope.streams.deviation.BinomialTest})
 * and the processor that applies them ({@code RunChecks}) to a block of runs at a time
 * (a frame's columns against the block's state, one store entry per block) and writes DeviationAlerts. Depends on {@code
 * io.sgdscope.schemas} with its serde, {@code streams.runs}, {@code streams.internals}, {@code
 * streams.metrics}, Kafka Streams and Micrometer.
 */
package io.sgdscope.streams.deviation;
