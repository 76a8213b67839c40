package io.sgdscope.dl4j.curvature;

/**
 * What one probe call cost in operator products and DL4J passes.
 *
 * @param hessianProducts       finite-difference H_f v products of the Lanczos runs on H_f (the spectrum, or L)
 * @param secondMomentProducts  M_t v products (Lanczos on M_t)
 * @param predictionHessianProducts H_p v products (each one H_f v and one M_t v)
 * @param exampleGradients      per-example gradients (minibatches of one: n)
 * @param batchGradients        full-probe-set gradient evaluations: one at theta, two per H_f v (those of H_p
 *                              included) and four for the finite-difference error estimate
 * @param forwardPasses         full-probe-set forward passes of the ReLU-kink checks (two per try of an H_f v)
 * @param kinkCrossings         H_f v steps shrunk because a ReLU changed sides within them
 * @param unresolvedCrossings   H_f v products whose smallest step still crossed a kink
 */
public record ProductCounts(int hessianProducts, int secondMomentProducts, int predictionHessianProducts,
                            int exampleGradients, long batchGradients, long forwardPasses, int kinkCrossings,
                            int unresolvedCrossings) {}
