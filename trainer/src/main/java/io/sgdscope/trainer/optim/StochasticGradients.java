package io.sgdscope.trainer.optim;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The per-step statistics of the stochastic gradients g_t that Fig. 8 follows. */
public final class StochasticGradients {

    private StochasticGradients() {}

    /** ||g_t||_2 (Fig. 8, right). */
    public static double norm(INDArray gradient) {
        return Nd4j.getBlasWrapper().level1().nrm2(gradient);
    }

    /**
     * cos(g_t, g_{t-1}) = g_t . g_{t-1} / (||g_t|| ||g_{t-1}||) (Fig. 8, middle); null when either
     * norm is 0 (the angle is undefined).
     */
    public static Double cosine(INDArray gradient, double norm, INDArray previous, double previousNorm) {
        if (norm == 0 || previousNorm == 0) {
            return null;
        }
        double dot = Nd4j.getBlasWrapper().level1().dot(gradient.length(), 1.0, gradient, previous);
        return dot / (norm * previousNorm);
    }
}
