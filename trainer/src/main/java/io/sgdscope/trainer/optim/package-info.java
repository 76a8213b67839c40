/**
 * Update rules and what they need: vanilla SGD (Eq. 8), Theorem 3's adaptive step (Eq. 35) and
 * diagonal preconditioner (Eq. 36/41), Adam (Eq. 37-39), minibatches drawn with replacement, the
 * statistics of successive stochastic gradients (Fig. 8), and optimizer state for checkpoints. Depends
 * on ND4J only.
 */
package io.sgdscope.trainer.optim;
