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
 *
 * <p><b>ReLU kinks.</b> A ReLU whose pre-activation changes sign for some example between theta and
 * theta +- h v breaks the expansion: the gradient jumps there, and the quotient is off by about
 * jump / 2h (with n examples, about 1 / (2 h n): hundreds at h = 1e-5). The chance is proportional to h
 * times the number of pre-activations: small on Gauss-10 (4,000 pre-activations), about one crossing per
 * product on an MNIST net [784, 128, 128, 128, 10] with 256 examples (98,000). So each shifted point's
 * pattern of active units is compared with theta's (one DL4J forward pass each); when it differs the step
 * is divided by {@value #SHRINK} and tried again, up to {@value #MAX_SHRINKS} times, so a product is a
 * difference quotient within one linear piece of every ReLU (where relu'' = 0, the Hessian's convention).
 * {@link #kinkCrossings} counts the shrinks; {@link #unresolvedCrossings} the products that still crossed.
 *
 * <p>{@link #errorEstimate} measures the error along a direction by comparing the steps h and 2h:
 * ||D(2h) v - D(h) v|| = 3 (h^2 / 6) ||D^3 f[v, v, .]|| + rounding, an upper estimate of the error of
 * D(h) v along that v (other directions have other third derivatives: it is not a bound on ||D(h) - H||).
 *
 * <p>Precision: float64. Each product costs two full-batch gradient evaluations; the twin's parameters
 * are back at theta after each. Not thread-safe.
 */
public final class FiniteDifferenceHessian implements SymmetricOperator {

    /** The default step h (float64, unit directions). */
    public static final double DEFAULT_STEP = 1e-5;

    /** The factor a step is divided by when a ReLU changed sides within it. */
    static final double SHRINK = 16;

    /** At most this many shrinks per product (h / 16^3 = 2.4e-9 at the default h). */
    static final int MAX_SHRINKS = 3;

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
    private final INDArray pattern;
    private long evaluations;
    private long forwardPasses;
    private int kinkCrossings;
    private int unresolvedCrossings;

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
        this.pattern = model.activePattern(features);
        evaluations = 1;
        forwardPasses = 1;
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
            for (int shrinks = 0; ; shrinks++) {
                boolean crossed = !sameSide(direction, t) || !sameSide(direction, -t);
                if (!crossed || shrinks == MAX_SHRINKS) {
                    if (crossed) {
                        unresolvedCrossings++;
                    }
                    break;
                }
                kinkCrossings++;
                t /= SHRINK;
            }
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

    /** Whether every hidden unit is on the same side at theta + t v as at theta (one forward pass). */
    private boolean sameSide(INDArray direction, double t) {
        model.setParameters(shifted.assign(theta).addi(direction.mul(t)));
        forwardPasses++;
        return model.activePattern(features).equals(pattern);
    }

    /**
     * An estimate of the error of {@link #apply} along {@code v}: ||D(2h) v - D(h) v|| / ||v||, an upper
     * estimate of ||D(h) v - H v|| / ||v|| for this v (see the class comment). Four gradient evaluations.
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

    /** Full-batch forward passes of the kink checks so far (two per try of a product, one at theta). */
    public long forwardPasses() {
        return forwardPasses;
    }

    /** Steps shrunk so far because a ReLU changed sides within them. */
    public int kinkCrossings() {
        return kinkCrossings;
    }

    /** Products whose step still crossed a kink after {@value #MAX_SHRINKS} shrinks. */
    public int unresolvedCrossings() {
        return unresolvedCrossings;
    }
}
