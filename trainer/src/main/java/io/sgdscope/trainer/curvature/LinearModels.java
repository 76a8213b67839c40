package io.sgdscope.trainer.curvature;

import io.sgdscope.trainer.model.MlpArchitecture;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The two closed-form models of Table 1 (Sec. 4.3, App. B.4) as one-layer networks z_i = x_i^T w + b
 * (architecture [d, 1], theta = (w, b), so the design matrix of Table 1 is [X, 1]), with the same
 * matrix-free curvature operators as the ReLU nets. Their H_f, M_t and H_p are known exactly, which
 * makes them references for the products.
 */
public final class LinearModels {

    private LinearModels() {}

    /**
     * Example 1: least squares with Gaussian noise sigma, f(theta) = (1/(2 n sigma^2)) sum (x_i^T theta - y_i)^2
     * (Eq. 17). Table 1: H_f = X^T X / (n sigma^2), M_t = (1/(n sigma^4)) sum r_i^2 x_i x_i^T,
     * H_p = (1/(n sigma^4)) sum (r_i^2 - sigma^2) x_i x_i^T with r_i = x_i^T theta - y_i.
     */
    public static NetworkCurvature leastSquares(INDArray features, double[] responses, double sigma, INDArray theta,
                                                DataType type) {
        return new NetworkCurvature(MlpArchitecture.of((int) features.columns(), 1), theta, features, responses,
                OutputLoss.gaussianLeastSquares(sigma), type);
    }

    /**
     * Example 2: binary logistic regression, y_i in {0, 1}, p_theta(x) = 1 / (1 + e^{-x^T theta}) (Eq. 19).
     * Table 1: H_f = (1/n) sum p_i (1 - p_i) x_i x_i^T, M_t = (1/n) sum (p_i - y_i)^2 x_i x_i^T,
     * H_p = (1/n) sum [(p_i - y_i)^2 - p_i (1 - p_i)] x_i x_i^T.
     */
    public static NetworkCurvature binaryLogistic(INDArray features, int[] labels, INDArray theta, DataType type) {
        double[] targets = new double[labels.length];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] != 0 && labels[i] != 1) {
                throw new IllegalArgumentException("binary labels must be 0 or 1, got " + labels[i]);
            }
            targets[i] = labels[i];
        }
        return new NetworkCurvature(MlpArchitecture.of((int) features.columns(), 1), theta, features, targets,
                OutputLoss.binaryLogistic(), type);
    }
}
