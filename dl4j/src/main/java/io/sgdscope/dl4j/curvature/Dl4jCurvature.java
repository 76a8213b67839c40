package io.sgdscope.dl4j.curvature;

import io.sgdscope.trainer.curvature.CurvatureOperators;
import io.sgdscope.trainer.curvature.SymmetricOperator;
import io.sgdscope.trainer.model.MlpArchitecture;
import java.util.function.BiConsumer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The curvature operators of a DL4J network frozen at theta on a probe set, in DL4J's parameter order:
 * H_f v by {@link FiniteDifferenceHessian} (Eq. 6), M_t v = (1/n) J^T (J v) from the per-example
 * gradients (Eq. 7, {@link SampleGradients}), and H_p v = M_t v - H_f v (Eq. 12). Counts the products of
 * each, so that a probe can report them. The layer blocks of DL4J's order are those of the trainer's
 * (see {@link ParameterLayout}), so per-layer quantities (layer loadings) read the same ranges.
 *
 * <p>Precision: float64. Not thread-safe.
 */
public final class Dl4jCurvature implements CurvatureOperators {

    private final MlpArchitecture architecture;
    private final FiniteDifferenceHessian hessian;
    private final SampleGradients samples;
    private final INDArray scratch;
    private int hessianProducts;
    private int secondMomentProducts;
    private int predictionProducts;

    /** @param hessian and {@code samples} at the same theta on the same probe set */
    public Dl4jCurvature(MlpArchitecture architecture, FiniteDifferenceHessian hessian, SampleGradients samples) {
        if (hessian.dimension() != samples.parameterCount() || architecture.parameterCount() != samples.parameterCount()) {
            throw new IllegalArgumentException("the Hessian, the per-example gradients and the layers " + architecture.layers()
                    + " disagree on p: " + hessian.dimension() + ", " + samples.parameterCount() + ", "
                    + architecture.parameterCount());
        }
        this.architecture = architecture;
        this.hessian = hessian;
        this.samples = samples;
        this.scratch = Nd4j.create(DataType.DOUBLE, samples.parameterCount());
    }

    @Override
    public MlpArchitecture architecture() {
        return architecture;
    }

    @Override
    public int parameterCount() {
        return samples.parameterCount();
    }

    @Override
    public SymmetricOperator hessian() {
        return operator((v, out) -> {
            hessianProducts++;
            hessian.apply(v, out);
        });
    }

    @Override
    public SymmetricOperator secondMoment() {
        return operator((v, out) -> {
            secondMomentProducts++;
            samples.secondMomentTimes(v, out);
        });
    }

    @Override
    public SymmetricOperator predictionHessian() {
        return operator((v, out) -> {                                  // H_p v = M_t v - H_f v (Eq. 12)
            predictionProducts++;
            hessian.apply(v, scratch);
            samples.secondMomentTimes(v, out);
            out.subi(scratch.reshape(out.shape()));
        });
    }

    /** The finite-difference Hessian (for its step, error estimate and gradient evaluations). */
    public FiniteDifferenceHessian finiteDifferenceHessian() {
        return hessian;
    }

    /** The per-example gradients. */
    public SampleGradients sampleGradients() {
        return samples;
    }

    /** Products with H_f alone so far. */
    public int hessianProducts() {
        return hessianProducts;
    }

    /** Products with M_t alone so far. */
    public int secondMomentProducts() {
        return secondMomentProducts;
    }

    /** Products with H_p so far (each one H_f and one M_t product). */
    public int predictionHessianProducts() {
        return predictionProducts;
    }

    private SymmetricOperator operator(BiConsumer<INDArray, INDArray> product) {
        int p = samples.parameterCount();
        return new SymmetricOperator() {
            @Override
            public int dimension() {
                return p;
            }

            @Override
            public DataType dataType() {
                return DataType.DOUBLE;
            }

            @Override
            public void apply(INDArray v, INDArray out) {
                product.accept(v, out);
            }
        };
    }
}
