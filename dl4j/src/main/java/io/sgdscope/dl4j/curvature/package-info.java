/**
 * The paper's curvature probes on a DeepLearning4J network: the gradient moments of Eq. 4-7 from
 * per-example gradients of DL4J's own backpropagation, the top-k eigenpairs of H_f (Lanczos on
 * central finite differences of DL4J's gradients), of M_t and of H_p = M_t - H_f with the principal
 * angles of Eq. 13, the mapping between DL4J's parameter order and the trainer's, and the snapshot
 * folders of {@code docs/snapshots.md}. The results are records in the shape of the schemas'
 * IterationMetrics and SpectrumSnapshot fields. Depends on DL4J, ND4J and the trainer's curvature,
 * model and snapshot packages (the Lanczos method, the Gram identities, the snapshot format) and the
 * schemas' record classes; never on Kafka.
 */
package io.sgdscope.dl4j.curvature;
