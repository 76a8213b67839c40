/**
 * The curvature probes of the paper's §4-6, matrix-free: a network frozen at theta with exact H_f v
 * (R-operator), M_t v and H_p v products, the exact gradient moments of Eq. 4-7, Lanczos with full
 * reorthogonalisation for top-k eigenpairs, principal angles, layer loadings, Davis-Kahan bounds, the
 * exact diag(H_f), the Corollary 4 terms, dense matrices and full spectra for small p, and the
 * closed-form models of Table 1 as references. No p x p matrix is formed for large p ({@code
 * docs/quantities.md}). Pure numerics: depends on ND4J, Apache Commons Math and {@code
 * io.sgdscope.trainer.model} (the network layout) only; never on schemas, telemetry or Kafka.
 */
package io.sgdscope.trainer.curvature;
