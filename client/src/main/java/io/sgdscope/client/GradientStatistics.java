package io.sgdscope.client;

/**
 * What the publisher computes from the arrays of iteration t, in float64.
 *
 * @param sgNorm            ||g_t||_2, the norm of the stochastic gradient (Fig. 8, right)
 * @param sgCosPrev         cos(g_t, g_{t-1}) = g_t . g_{t-1} / (||g_t|| ||g_{t-1}||) (Fig. 8, middle); null at t = 0
 *                          or when either gradient is zero
 * @param distanceFromStart ||theta_t - theta_0||_2, how far the run has moved from its start (the numerator of
 *                          Corollary 4's ||theta - theta_0||^2 / sigma^2, Eq. 52), published as
 *                          IterationMetrics.paramDistance
 */
public record GradientStatistics(double sgNorm, Double sgCosPrev, double distanceFromStart) {}
