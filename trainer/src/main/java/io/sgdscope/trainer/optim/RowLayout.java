package io.sgdscope.trainer.optim;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How a block of runs lays out its parameters in row form (one run per row of an [R, q] array, in whatever order
 * of the p values the block keeps them): the ensemble engine's optimizers work on rows, checkpoints hold
 * theta-layout vectors of length p.
 */
public interface RowLayout {

    /** Row form [R, q], in the block's data type, of one theta-layout vector per run (null: zeros). */
    INDArray rows(double[][] thetas);

    /** Run r's row of a row-form array as a theta-layout vector of length p, in float64. */
    double[] theta(INDArray rows, int run);
}
