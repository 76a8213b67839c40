/**
 * Training sets: the Gauss-k blobs of §A.1 generated from a seed (standardised by default), MNIST from
 * its IDX files and CIFAR-10 from its binary files (§A.2, plain or gzipped, never downloaded),
 * normalised with the training set's statistics, with held-out test sets and the description that
 * RunStarted records. Missing or damaged files give a one-line {@link
 * io.sgdscope.trainer.data.DatasetException}. Depends on ND4J only.
 */
package io.sgdscope.trainer.data;
