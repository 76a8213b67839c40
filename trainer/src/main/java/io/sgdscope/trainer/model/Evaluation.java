package io.sgdscope.trainer.model;

/**
 * The model on a set of samples at one theta.
 *
 * @param loss     mean softmax cross-entropy f(theta) over the samples (Eq. 3, 11), in nats
 * @param accuracy share of samples whose largest logit is their label, in [0, 1]
 */
public record Evaluation(double loss, double accuracy) {}
