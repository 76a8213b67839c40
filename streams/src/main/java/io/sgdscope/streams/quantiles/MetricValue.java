package io.sgdscope.streams.quantiles;

/** One run's value of one metric at one iteration, on its way to the cross-run distribution it joins. */
record MetricValue(String experimentId, String metric, int iteration, double value) {}
