package io.sgdscope.trainer.curvature;

import io.sgdscope.trainer.model.MlpArchitecture;

/**
 * The curvature operators of a network at one theta that {@link SpectrumProbe} works on: H_f (Eq. 6),
 * M_t (Eq. 7) and H_p = M_t - H_f (Eq. 12), all on R^p in the parameter order of the layer blocks of
 * {@link #architecture()} (each layer's W_l and b_l together, layer after layer). {@link NetworkCurvature}
 * gives them exactly; other models (e.g. a DeepLearning4J network) may give them by other means.
 */
public interface CurvatureOperators {

    /** The layer widths; layer l's parameters occupy [weightOffset(l), weightOffset(l + 1)) of every vector. */
    MlpArchitecture architecture();

    /** p, the length of the vectors. */
    int parameterCount();

    /** H_f as an operator. */
    SymmetricOperator hessian();

    /** M_t as an operator. */
    SymmetricOperator secondMoment();

    /** H_p = M_t - H_f as an operator. */
    SymmetricOperator predictionHessian();
}
