package io.sgdscope.dl4j.curvature;

import io.sgdscope.trainer.curvature.SymmetricOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * H_f v (Eq. 6) by a central difference of DL4J's own full-batch gradients on the probe set:
 * H v ~ (g(theta + h v) - g(theta - h v)) / (2h), with h scaled by ||v|| so that the step is h in
 * parameter space whatever the length of v.
 *
 * <p><b>Error.</b> For a unit v the difference quotient is H v + (h^2 / 6) D^3 f[v, v, .] + O(h^4) (Taylor:
 * the even terms cancel), plus the rounding of the two gradients, about eps ||g|| / h with eps the
 * float64 unit roundoff (1.1e-16) times the growth of the rounding in the backward pass. The sum is
 * smallest near h = (3 eps ||g|| / ||D^3 f||)^(1/3), about 1e-5 for gradients and third derivatives of
 * order one: the default {@link #DEFAULT_STEP}, which gives errors of about 1e-10 relative to ||H||.
 * A ReLU whose pre-activation changes sign for some example between theta - h v and theta + h v breaks
 * the Taylor expansion (the gradient jumps there); the chance of that is proportional to h and to the
 * number of pre-activations. {@link #errorEstimate} measures the error along a direction by comparing
 * the steps h and 2h: ||D(2h) v - D(h) v|| = 3 (h^2 / 6) ||D^3 f[v, v, .]|| + rounding, an upper estimate
 * of the error of D(h) v that also catches a jump.
 *
 * <p>Precision: float64. Each product costs two full-batch gradient evaluations; the twin's parameters
 * are back at theta after each. Not thread-safe.
 */
public final class FiniteDifferenceHessian implements SymmetricOperator {

    /** The default step h (float64, unit directions). */
    public static final double DEFAULT_STEP = 1e-5;

    private final GradientModel model;
    private final INDArray features;
    private final INDArray labels;
    private final INDArray theta;
    private final double step;
    private final int p;
    private final INDArray shifted;
    private final INDArray plus;
    private final INDArray minus;
    private final INDArray gradient;
    private final double loss;
    private long evaluations;

    /**
     * The Hessian of f on the probe set at the model's current parameters theta.
     *
     * @param step h > 0, the length of the step in parameter space
     */
    public FiniteDifferenceHessian(GradientModel model, INDArray features, INDArray labels, double step) {
        if (!(step > 0) || !Double.isFinite(step)) {
            throw new IllegalArgumentException("the finite-difference step must be > 0, got " + step);
        }
        this.model = model;
        this.features = features;
        this.labels = labels;
        this.step = step;
        this.p = model.parameterCount();
        this.theta = model.parameters();
        this.shifted = Nd4j.create(DataType.DOUBLE, p);
        this.plus = Nd4j.create(DataType.DOUBLE, p);
        this.minus = Nd4j.create(DataType.DOUBLE, p);
        this.gradient = Nd4j.create(DataType.DOUBLE, p);
        this.loss = model.lossAndGradient(features, labels, gradient);
        evaluations = 1;
    }

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
        difference(v, step, out);
    }

    /** The central difference quotient with step {@code h}: out ~ H v. */
    private void difference(INDArray v, double h, INDArray out) {
        INDArray direction = v.castTo(DataType.DOUBLE).reshape(p);
        double norm = direction.norm2Number().doubleValue();
        if (norm == 0) {
            out.assign(0);
            return;
        }
        double t = h / norm;
        try {
            model.setParameters(shifted.assign(theta).addi(direction.mul(t)));
            model.lossAndGradient(features, labels, plus);
            model.setParameters(shifted.assign(theta).subi(direction.mul(t)));
            model.lossAndGradient(features, labels, minus);
            evaluations += 2;
        } finally {
            model.setParameters(theta);
        }
        out.assign(plus.subi(minus).divi(2 * t).reshape(out.shape()));    // (g(theta + t v) - g(theta - t v)) / 2t
    }

    /**
     * An estimate of the error of {@link #apply} along {@code v}: ||D(2h) v - D(h) v|| / ||v||, an upper
     * estimate of ||D(h) v - H v|| / ||v|| (see the class comment). Four gradient evaluations.
     */
    public double errorEstimate(INDArray v) {
        INDArray one = Nd4j.create(DataType.DOUBLE, p);
        INDArray two = Nd4j.create(DataType.DOUBLE, p);
        difference(v, step, one);
        difference(v, 2 * step, two);
        return two.subi(one).norm2Number().doubleValue() / v.norm2Number().doubleValue();
    }

    /** h. */
    public double step() {
        return step;
    }

    /** f(theta) on the probe set, as DL4J scores it on the whole set. */
    public double loss() {
        return loss;
    }

    /** mu = grad f(theta) on the probe set from one full-batch DL4J gradient (Eq. 4), [p] (not a copy). */
    public INDArray gradient() {
        return gradient;
    }

    /** Full-batch gradient evaluations so far (two per product, one for theta itself). */
    public long gradientEvaluations() {
        return evaluations;
    }
}
