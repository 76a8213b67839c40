/**
 * The models: fully connected ReLU networks with a softmax cross-entropy head (a stable log-sum-exp in
 * plain Java), their architectures and the paper's presets (Tables 2-3), initialisations, precision,
 * the per-run network ({@link io.sgdscope.trainer.model.Mlp}) and the batched one of the ensemble
 * engine ({@link io.sgdscope.trainer.model.BatchedMlp}). Its batched products come from the backend's
 * source folder chosen by the build ({@code src/cpu/java}: one OpenBLAS gemm per run; {@code
 * src/cuda/java}: ND4J's batched matmul), which adds classes to this package. Depends on ND4J (and, in
 * the CPU build, JavaCPP's OpenBLAS bindings) and {@code io.sgdscope.trainer.data} only; never on
 * telemetry, schemas or Kafka.
 */
package io.sgdscope.trainer.model;
