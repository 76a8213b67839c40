/**
 * Metrics export: the names of sgdscope's meters and the Prometheus names they become ({@link
 * io.sgdscope.streams.metrics.MeterNames}), gauges that come and go in groups (a watched run's
 * series), and the HTTP server of {@code /metrics}, {@code /health} and {@code /ready}. Depends on
 * Micrometer, the Prometheus client and the JDK's HTTP server only.
 */
package io.sgdscope.streams.metrics;
