/**
 * Watches DeepLearning4J training: {@link io.sgdscope.dl4j.SgdscopeTrainingListener}, a {@code TrainingListener} for
 * {@code MultiLayerNetwork} and {@code ComputationGraph} that publishes every iteration through the sgdscope client,
 * and the probe set its loss f(theta_t) is evaluated on. Depends on {@code io.sgdscope.client}, the schemas,
 * DeepLearning4J's {@code deeplearning4j-nn} and ND4J's API; never on the trainer or the streams apps.
 */
package io.sgdscope.dl4j;
