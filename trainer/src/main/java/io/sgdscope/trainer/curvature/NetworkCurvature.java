package io.sgdscope.trainer.curvature;

import io.sgdscope.trainer.model.MlpArchitecture;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A fully connected ReLU network (layout of {@link MlpArchitecture}) frozen at one theta on one
 * full training set, with the exact curvature operators of Sec. 3-4 as matrix-free products:
 * H_f v by the R-operator (Pearlmutter), M_t v = (1/n) J^T (J v) (Eq. 7) and H_p v = M_t v - H_f v
 * (Eq. 12), J the n x p Jacobian of the per-sample losses f(theta; z_i).
 *
 * <p>Everything that does not depend on the direction v is computed once per theta ({@link #freeze}): the
 * layer inputs a_l (a_0 = X), the ReLU masks relu'(z_l) (with relu'(0) = 0, as PyTorch), the
 * output state (softmax probabilities) and the per-sample backward signals
 * delta_{l,i} = d f(theta; z_i) / d z_{l,i}. A per-sample gradient is then, for a dense layer,
 * the outer product a_{l,i} delta_{l,i}^T (and delta_{l,i} for the bias), so
 * (J v)_i = sum_l rowsum((a_l V_l + 1 c_l^T) o delta_l)_i and J^T c = (a_l^T diag(c) delta_l,
 * delta_l^T c) per layer: one matrix product per layer each way, no per-sample gradient stored.
 * H_f v costs one forward and one backward R-pass (about six matrix products per layer).
 *
 * <p>Precision: every ND4J array, product and reduction is in the {@link DataType} given at
 * construction (float64 for the trainer's Gauss-k nets, float32 in the MNIST benchmark); the
 * k-wide output head (loss, probabilities, d^2 l / dz^2 products) runs in plain float64 Java. Arrays
 * are column-major ('f'), which OpenBLAS multiplies fastest (docs/pitfalls.md).
 *
 * <p>The products run as prepared ND4J ops on fixed buffers ({@link PreparedOps}): the direction is
 * copied in, the result copied out, and no array or op is created per product.
 *
 * <p>Not thread-safe (it reuses buffers): one instance per thread; {@link #close()} frees the
 * native op contexts. Memory: O(n * sum of widths) plus O(p); nothing of size p^2 or n * p.
 */
public final class NetworkCurvature implements CurvatureOperators, AutoCloseable {

    private final MlpArchitecture architecture;
    private final OutputLoss head;
    private final DataType type;
    private final int n;
    private final int depth;
    private final int p;
    private final int k;
    private final INDArray theta;
    private final INDArray[] weights;
    private final INDArray[] biases;
    /** inputs[l] = a_l, [n, in_l]; inputs[0] = X. */
    private final INDArray[] inputs;
    /** masks[l] = relu'(z_l) in {0, 1}, [n, out_l], hidden layers only. */
    private final INDArray[] masks;
    /** deltas[l] = d f(theta; z_i) / d z_l per sample (not divided by n), [n, out_l]. */
    private final INDArray[] deltas;
    /** preActivations[l] = z_l = a_l W_l + b_l, [n, out_l]; the last are the outputs. */
    private final INDArray[] preActivations;
    private final double[] targets;
    /** The head's state (probabilities) and per-sample output signals, [n, k] row-major. */
    private final double[] headState;
    private final double[] signal;
    private final INDArray gradient;
    private double loss;

    // Direction-dependent buffers and the prepared ops between them, reused by every product.
    private final PreparedOps ops = new PreparedOps();
    private final INDArray[] rz;
    private final INDArray[] rdelta;
    private final INDArray[] scaled;
    private final INDArray direction;
    private final INDArray product;
    private final INDArray jv;
    private final INDArray scratch;
    private final double[] rzOut;
    private final double[] rdeltaOut;
    private final List<Runnable> jacobianProgram = new ArrayList<>();
    private final List<Runnable> jacobianTransposeProgram = new ArrayList<>();
    private final List<Runnable> forwardProgram = new ArrayList<>();
    private final List<Runnable> backwardProgram = new ArrayList<>();
    private final List<Runnable> forwardState = new ArrayList<>();
    private final List<Runnable> backwardState = new ArrayList<>();
    private final List<Runnable> gradientProgram = new ArrayList<>();
    private final INDArray jvColumn;
    private final INDArray onesN;
    private List<Runnable> gramProgram;
    private INDArray gram;

    /**
     * The network on the data, frozen at theta (see {@link #freeze} to move it to another theta).
     *
     * @param theta    [p] parameters in the layout of the architecture (any data type; copied)
     * @param features [n, d] inputs (any data type; copied into {@code type})
     * @param targets  n targets: class labels 0..k-1 for softmax cross-entropy, responses or {0,1} labels otherwise
     * @param head     the per-sample loss on the outputs; its {@code outputs()} must equal the last width
     * @param type     precision of all products (DOUBLE or FLOAT)
     */
    public NetworkCurvature(MlpArchitecture architecture, INDArray theta, INDArray features, double[] targets,
                            OutputLoss head, DataType type) {
        this.architecture = Objects.requireNonNull(architecture, "architecture");
        this.head = Objects.requireNonNull(head, "head");
        this.type = type;
        this.depth = architecture.depth();
        this.p = architecture.parameterCount();
        this.k = architecture.classes();
        this.n = (int) features.rows();
        if (features.rank() != 2 || features.columns() != architecture.inputDimension()) {
            throw new IllegalArgumentException("features must be [n, " + architecture.inputDimension() + "]");
        }
        if (targets.length != n) {
            throw new IllegalArgumentException("need one target per sample (n = " + n + "), got " + targets.length);
        }
        if (head.outputs() != k) {
            throw new IllegalArgumentException("the head has " + head.outputs() + " outputs, the network " + k);
        }
        this.targets = targets.clone();
        this.theta = Nd4j.create(type, p);
        this.weights = new INDArray[depth];
        this.biases = new INDArray[depth];
        for (int l = 0; l < depth; l++) {
            weights[l] = weightView(this.theta, l);
            biases[l] = biasView(this.theta, l);
        }
        inputs = new INDArray[depth];
        preActivations = new INDArray[depth];
        masks = new INDArray[depth];
        deltas = new INDArray[depth];
        rz = new INDArray[depth];
        rdelta = new INDArray[depth];
        scaled = new INDArray[depth];
        inputs[0] = features.castTo(type).dup('f');
        for (int l = 0; l < depth; l++) {
            int out = architecture.fanOut(l);
            preActivations[l] = Nd4j.create(type, new long[] {n, out}, 'f');
            deltas[l] = Nd4j.create(type, new long[] {n, out}, 'f');
            if (l < depth - 1) {
                masks[l] = Nd4j.create(type, new long[] {n, out}, 'f');
                inputs[l + 1] = Nd4j.create(type, new long[] {n, out}, 'f');
            }
            rz[l] = Nd4j.create(type, new long[] {n, out}, 'f');
            rdelta[l] = Nd4j.create(type, new long[] {n, out}, 'f');
            scaled[l] = Nd4j.create(type, new long[] {n, out}, 'f');
        }
        direction = Nd4j.create(type, p);
        product = Nd4j.create(type, p);
        jv = Nd4j.create(type, n);
        jvColumn = jv.reshape(n, 1);
        onesN = Nd4j.ones(type, n, 1);
        scratch = Nd4j.create(type, p);
        gradient = Nd4j.create(type, p);
        rzOut = new double[n * k];
        rdeltaOut = new double[n * k];
        signal = new double[n * k];
        headState = new double[n * k];
        prepareProducts();
        freeze(theta);
    }

    /**
     * Moves the network to another theta on the same data, reusing every buffer and prepared op:
     * recomputes the layer inputs, ReLU masks, head state, per-sample signals, f and mu.
     *
     * @param theta [p] parameters (any data type)
     */
    public void freeze(INDArray theta) {
        if (theta.length() != p) {
            throw new IllegalArgumentException("theta has " + theta.length() + " values, the network needs p = " + p);
        }
        this.theta.assign(theta.reshape(p));
        // Forward pass: a_{l+1} = relu(a_l W_l + b_l) with the masks relu'(z_l), logits = a_{L-1} W_{L-1} + b_{L-1}.
        PreparedOps.run(forwardState);
        double[] columnMajor = preActivations[depth - 1].data().asDouble();
        double[] outputs = new double[n * k];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < k; c++) {
                outputs[i * k + c] = columnMajor[c * n + i];
            }
        }
        loss = head.lossAndSignal(outputs, targets, n, signal, headState) / n;
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < k; c++) {
                columnMajor[c * n + i] = signal[i * k + c];
            }
        }
        deltas[depth - 1].data().setData(columnMajor);
        // Backward pass of the per-sample signals: delta_{l-1} = (delta_l W_l^T) o relu'(z_{l-1}).
        PreparedOps.run(backwardState);
        // mu = grad f = (1/n) J^T 1 (Eq. 4).
        PreparedOps.run(gradientProgram);
    }

    /**
     * Binds the ops of the forward pass, J v, J^T c and the two R-passes of H_f v to the buffers.
     * Every operand is column-major so that each product goes straight to BLAS: the row-major
     * [in, out] weight blocks of the flat vectors are read and written as their column-major
     * transposes [out, in] (the same memory). Broadcasts are avoided (slow in ND4J 1.0.0-M2.1):
     * biases enter as rank-1 products 1 c^T, row and column sums as products with a vector of ones,
     * and diag(c) delta as (c 1^T) o delta.
     */
    private void prepareProducts() {
        for (int l = 0; l < depth; l++) {
            int out = architecture.fanOut(l);
            INDArray wT = transposedWeightView(theta, l);
            INDArray vT = transposedWeightView(direction, l);
            INDArray vB = biasView(direction, l).reshape(1, out);
            INDArray oT = transposedWeightView(product, l);
            INDArray oB = biasView(product, l).reshape(out, 1);
            INDArray onesOut = Nd4j.ones(type, out, 1);
            INDArray onesRow = Nd4j.ones(type, 1, out);
            INDArray tiled = Nd4j.create(type, new long[] {n, out}, 'f');
            forwardState.add(ops.matmul(inputs[l], wT, preActivations[l], false, true, 1.0, 0.0));
            forwardState.add(ops.matmul(onesN, biases[l].reshape(1, out), preActivations[l], false, false, 1.0, 1.0));
            if (l < depth - 1) {
                INDArray onesBlock = Nd4j.ones(type, n, out).dup('f');
                forwardState.add(ops.reluBackward(preActivations[l], onesBlock, masks[l]));        // relu'(z_l)
                forwardState.add(ops.multiply(preActivations[l], masks[l], inputs[l + 1]));        // relu(z_l)
            }
            // mu = (1/n) J^T 1: the transposed W block delta_l^T a_l / n and delta_l^T 1 / n
            gradientProgram.add(ops.matmul(deltas[l], inputs[l], transposedWeightView(gradient, l), true, false,
                    1.0 / n, 0.0));
            gradientProgram.add(ops.matmul(deltas[l], onesN, biasView(gradient, l).reshape(out, 1), true, false,
                    1.0 / n, 0.0));
            // (J v)_i = sum_l rowsum((a_l V_l + 1 c_l^T) o delta_l)_i
            jacobianProgram.add(ops.matmul(inputs[l], vT, scaled[l], false, true, 1.0, 0.0));
            jacobianProgram.add(ops.matmul(onesN, vB, scaled[l], false, false, 1.0, 1.0));
            jacobianProgram.add(ops.multiply(scaled[l], deltas[l], scaled[l]));
            jacobianProgram.add(ops.matmul(scaled[l], onesOut, jvColumn, false, false, 1.0, l == 0 ? 0.0 : 1.0));
            // (1/n) J^T c per layer: (diag(c) delta_l)^T a_l / n (that is the transposed W block) and delta_l^T c / n
            jacobianTransposeProgram.add(ops.matmul(jvColumn, onesRow, tiled, false, false, 1.0, 0.0));   // c 1^T
            jacobianTransposeProgram.add(ops.multiply(deltas[l], tiled, scaled[l]));
            jacobianTransposeProgram.add(ops.matmul(scaled[l], inputs[l], oT, true, false, 1.0 / n, 0.0));
            jacobianTransposeProgram.add(ops.matmul(deltas[l], jvColumn, oB, true, false, 1.0 / n, 0.0));
            // R-forward: R{z_l} = a_l V_l + 1 c_l^T + R{a_l} W_l, R{a_l} = relu'(z_{l-1}) o R{z_{l-1}}
            forwardProgram.add(ops.matmul(inputs[l], vT, rz[l], false, true, 1.0, 0.0));
            forwardProgram.add(ops.matmul(onesN, vB, rz[l], false, false, 1.0, 1.0));
            if (l > 0) {
                forwardProgram.add(ops.multiply(rz[l - 1], masks[l - 1], rz[l - 1]));
                forwardProgram.add(ops.matmul(rz[l - 1], wT, rz[l], false, true, 1.0, 1.0));
            }
        }
        // R-backward, output layer first.
        for (int l = depth - 1; l >= 0; l--) {
            int out = architecture.fanOut(l);
            INDArray wT = transposedWeightView(theta, l);
            INDArray vT = transposedWeightView(direction, l);
            INDArray oT = transposedWeightView(product, l);
            INDArray oB = biasView(product, l).reshape(out, 1);
            backwardProgram.add(ops.matmul(rdelta[l], inputs[l], oT, true, false, 1.0 / n, 0.0));
            if (l > 0) {
                backwardProgram.add(ops.matmul(deltas[l], rz[l - 1], oT, true, false, 1.0 / n, 1.0));  // (R{a_l}^T delta_l)^T
                backwardProgram.add(ops.matmul(rdelta[l], wT, rdelta[l - 1], false, false, 1.0, 0.0));
                backwardProgram.add(ops.matmul(deltas[l], vT, rdelta[l - 1], false, false, 1.0, 1.0));
                backwardProgram.add(ops.multiply(rdelta[l - 1], masks[l - 1], rdelta[l - 1]));
                backwardState.add(ops.matmul(deltas[l], wT, deltas[l - 1], false, false, 1.0, 0.0));
                backwardState.add(ops.multiply(deltas[l - 1], masks[l - 1], deltas[l - 1]));
            }
            backwardProgram.add(ops.matmul(rdelta[l], onesN, oB, true, false, 1.0 / n, 0.0));
        }
    }

    /** The row-major [in, out] block W_l of a flat vector, seen as its column-major transpose [out, in]. */
    private INDArray transposedWeightView(INDArray flat, int l) {
        int start = architecture.weightOffset(l);
        return flat.get(NDArrayIndex.interval(start, architecture.biasOffset(l)))
                .reshape('f', architecture.fanOut(l), architecture.fanIn(l));
    }

    /** A softmax cross-entropy classification net (Eq. 10-11) with labels 0..k-1. */
    public static NetworkCurvature classifier(MlpArchitecture architecture, INDArray theta, INDArray features,
                                              int[] labels, DataType type) {
        double[] targets = new double[labels.length];
        for (int i = 0; i < labels.length; i++) {
            targets[i] = labels[i];
        }
        return new NetworkCurvature(architecture, theta, features, targets,
                OutputLoss.softmaxCrossEntropy(architecture.classes()), type);
    }

    @Override
    public MlpArchitecture architecture() {
        return architecture;
    }

    public DataType dataType() {
        return type;
    }

    /** n, the number of samples. */
    public int samples() {
        return n;
    }

    /** p, the number of parameters. */
    @Override
    public int parameterCount() {
        return p;
    }

    /** f(theta), the mean loss over the n samples (Eq. 3). */
    public double loss() {
        return loss;
    }

    /** mu = grad f(theta) (Eq. 4), [p] (not a copy: do not change it). */
    public INDArray gradient() {
        return gradient;
    }

    /** The parameters theta this network is frozen at, [p] (not a copy: do not change it). */
    public INDArray parameters() {
        return theta;
    }

    /** out = J v, the directional derivatives of the n per-sample losses; out is [n] or [n, 1]. */
    public void jacobianTimes(INDArray v, INDArray out) {
        direction.assign(v.reshape(p));
        PreparedOps.run(jacobianProgram);
        out.assign(jv.reshape(out.shape()));
    }

    /** out = alpha J^T c for a per-sample weight vector c of length n. */
    public void jacobianTransposeTimes(INDArray c, INDArray out, double alpha) {
        jv.assign(c.reshape(n));
        PreparedOps.run(jacobianTransposeProgram);                                   // (1/n) J^T c
        out.assign(product);
        if (alpha != 1.0 / n) {
            out.muli(alpha * n);
        }
    }

    /** out = M_t v = (1/n) J^T (J v) (Eq. 7). */
    public void secondMomentTimes(INDArray v, INDArray out) {
        direction.assign(v.reshape(p));
        PreparedOps.run(jacobianProgram);
        PreparedOps.run(jacobianTransposeProgram);
        out.assign(product);
    }

    /**
     * out = H_f v by the R-operator: a forward pass of R{z_l} = R{a_l} W_l + a_l V_l + c_l with
     * R{a_{l+1}} = relu'(z_l) o R{z_l} (relu'' = 0), the head's R{delta} = (d^2 l/dz^2) R{z}, and a
     * backward pass of R{delta_{l-1}} = (R{delta_l} W_l^T + delta_l V_l^T) o relu'(z_{l-1});
     * then H_f v = (1/n) (R{a_l}^T delta_l + a_l^T R{delta_l}, colsum R{delta_l}) per layer (Eq. 6).
     */
    public void hessianTimes(INDArray v, INDArray out) {
        direction.assign(v.reshape(p));
        PreparedOps.run(forwardProgram);
        double[] columnMajor = rz[depth - 1].data().asDouble();                       // [n, k] in 'f' order
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < k; c++) {
                rzOut[i * k + c] = columnMajor[c * n + i];
            }
        }
        head.hessianTimes(headState, rzOut, n, rdeltaOut);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < k; c++) {
                columnMajor[c * n + i] = rdeltaOut[i * k + c];
            }
        }
        rdelta[depth - 1].data().setData(columnMajor);
        PreparedOps.run(backwardProgram);
        out.assign(product);
    }

    /** out = H_p v = M_t v - H_f v (Eq. 12). */
    public void predictionHessianTimes(INDArray v, INDArray out) {
        hessianTimes(v, scratch);
        secondMomentTimes(v, out);
        out.subi(scratch);
    }

    /** out = Sigma_t v = M_t v - mu (mu^T v) (Eq. 5, 7). */
    public void covarianceTimes(INDArray v, INDArray out) {
        secondMomentTimes(v, out);
        double muv = Nd4j.getBlasWrapper().dot(gradient, v.reshape(p));
        out.subi(gradient.mul(muv));
    }

    /** H_f as an operator. */
    @Override
    public SymmetricOperator hessian() {
        return operator(this::hessianTimes);
    }

    /** M_t as an operator. */
    @Override
    public SymmetricOperator secondMoment() {
        return operator(this::secondMomentTimes);
    }

    /** H_p = M_t - H_f as an operator. */
    @Override
    public SymmetricOperator predictionHessian() {
        return operator(this::predictionHessianTimes);
    }

    /** Sigma_t = M_t - mu mu^T as an operator. */
    public SymmetricOperator covariance() {
        return operator(this::covarianceTimes);
    }

    /**
     * Tr M_t = (1/n) sum_i ||grad f(theta; z_i)||^2 = (1/n) sum_i sum_l ||delta_{l,i}||^2 (||a_{l,i}||^2 + 1)
     * (Eq. 7; the squared norm of an outer product a delta^T is ||a||^2 ||delta||^2, the bias adds ||delta||^2).
     */
    public double traceSecondMoment() {
        double sum = 0;
        for (int l = 0; l < depth; l++) {
            INDArray deltaSq = deltas[l].mul(deltas[l]).sum(1);
            INDArray inputSq = inputs[l].mul(inputs[l]).sum(1).addi(1.0);
            sum += deltaSq.mul(inputSq).sumNumber().doubleValue();
        }
        return sum / n;
    }

    /**
     * diag(M_t): M_jj = (1/n) sum_i (grad f(theta; z_i))_j^2 (Eq. 7), the per-coordinate second moment that the
     * preconditioner of Eq. 36 divides by. For a dense layer the per-sample gradient is a_{l,i} delta_{l,i}^T, so
     * over W_l it is (1/n) (a_l o a_l)^T (delta_l o delta_l) and over b_l (1/n) colsum(delta_l o delta_l): one
     * product per layer, no per-sample gradient formed. A new [p] array in the network's precision.
     */
    public INDArray secondMomentDiagonal() {
        INDArray diagonal = Nd4j.create(type, p);
        for (int l = 0; l < depth; l++) {
            INDArray deltaSq = deltas[l].mul(deltas[l]);
            INDArray inputSq = inputs[l].mul(inputs[l]);
            Nd4j.gemm(inputSq, deltaSq, weightView(diagonal, l), true, false, 1.0 / n, 0.0);
            biasView(diagonal, l).assign(deltaSq.sum(0)).muli(1.0 / n);
        }
        return diagonal;
    }

    /**
     * The Gram matrix of the per-sample gradients, G_ij = grad f_i^T grad f_j
     * = sum_l (delta_{l,i}^T delta_{l,j}) (a_{l,i}^T a_{l,j} + 1), over the samples {@code from..to-1}
     * (rows) and {@code from2..to2-1} (columns), without forming any per-sample gradient.
     */
    public INDArray sampleGram(int from, int to, int from2, int to2) {
        INDArray gram = Nd4j.create(type, new long[] {to - from, to2 - from2}, 'f');
        INDArray dd = Nd4j.create(type, new long[] {to - from, to2 - from2}, 'f');
        INDArray aa = Nd4j.create(type, new long[] {to - from, to2 - from2}, 'f');
        for (int l = 0; l < depth; l++) {
            INDArray d1 = deltas[l].get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
            INDArray d2 = deltas[l].get(NDArrayIndex.interval(from2, to2), NDArrayIndex.all());
            INDArray a1 = inputs[l].get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
            INDArray a2 = inputs[l].get(NDArrayIndex.interval(from2, to2), NDArrayIndex.all());
            Nd4j.gemm(d1, d2, dd, false, true, 1.0, 0.0);
            Nd4j.gemm(a1, a2, aa, false, true, 1.0, 0.0);
            gram.addi(dd.muli(aa.addi(1.0)));
        }
        return gram;
    }

    /**
     * The full n x n Gram matrix of the per-sample gradients (small n only: n^2 values), by prepared
     * ops into a buffer kept for the next theta: not a copy, overwritten by the next call.
     */
    public INDArray sampleGram() {
        if (gramProgram == null) {
            gram = Nd4j.create(type, new long[] {n, n}, 'f');
            INDArray dd = Nd4j.create(type, new long[] {n, n}, 'f');
            INDArray aa = Nd4j.create(type, new long[] {n, n}, 'f');
            INDArray one = Nd4j.scalar(type, 1.0);
            gramProgram = new ArrayList<>();
            for (int l = 0; l < depth; l++) {
                gramProgram.add(ops.matmul(deltas[l], deltas[l], dd, false, true, 1.0, 0.0));   // delta_i^T delta_j
                gramProgram.add(ops.matmul(inputs[l], inputs[l], aa, false, true, 1.0, 0.0));   // a_i^T a_j
                gramProgram.add(ops.add(aa, one, aa));
                if (l == 0) {
                    gramProgram.add(ops.multiply(dd, aa, gram));
                } else {
                    gramProgram.add(ops.multiply(dd, aa, dd));
                    gramProgram.add(ops.add(gram, dd, gram));
                }
            }
        }
        PreparedOps.run(gramProgram);
        return gram;
    }

    /**
     * The explicit n x p Jacobian of the per-sample losses (row i = grad f(theta; z_i)), in float64.
     * Small problems only (n * p values): the dense references and tests.
     */
    public double[][] perSampleGradients() {
        double[][] jacobian = new double[n][p];
        for (int l = 0; l < depth; l++) {
            double[][] a = inputs[l].toDoubleMatrix();
            double[][] d = deltas[l].toDoubleMatrix();
            int in = architecture.fanIn(l);
            int out = architecture.fanOut(l);
            int w0 = architecture.weightOffset(l);
            int b0 = architecture.biasOffset(l);
            for (int i = 0; i < n; i++) {
                double[] row = jacobian[i];
                for (int r = 0; r < in; r++) {
                    double ar = a[i][r];
                    for (int c = 0; c < out; c++) {
                        row[w0 + r * out + c] = ar * d[i][c];
                    }
                }
                System.arraycopy(d[i], 0, row, b0, out);
            }
        }
        return jacobian;
    }

    /**
     * diag(H_f), exactly, in O(k) backward passes. With relu'' = 0 the network output is linear in
     * each single parameter, so the second-derivative-of-the-network term of H_f vanishes on the
     * diagonal and diag(H_f) = diag of (1/n) sum_i J_phi,i^T (d^2 l / dz^2) J_phi,i (Eq. 21's form):
     * with B^c_l = d z_out,c / d z_l (backpropagated from output c) and
     * Q_l = sum_{c,c'} (d^2 l / dz_c dz_c') B^c_l o B^{c'}_l, diag over W_l = (1/n) (a_l o a_l)^T Q_l
     * and over b_l = (1/n) colsum Q_l. Same precision as the rest.
     */
    public INDArray hessianDiagonal() {
        // The per-sample output Hessians d^2 l / dz dz^T, k x k each: column c of all of them at once.
        double[][] outputHessian = new double[k][n * k];
        double[] unit = new double[n * k];
        for (int c = 0; c < k; c++) {
            java.util.Arrays.fill(unit, 0.0);
            for (int i = 0; i < n; i++) {
                unit[i * k + c] = 1.0;
            }
            head.hessianTimes(headState, unit, n, outputHessian[c]);
        }
        // back = B_l for all outputs c stacked by blocks of n rows: [k n, out_l]; B_{L-1} = one-hot blocks.
        int rows = k * n;
        INDArray back = Nd4j.create(type, new long[] {rows, k}, 'f');
        for (int c = 0; c < k; c++) {
            back.get(NDArrayIndex.interval(c * n, (c + 1) * n), NDArrayIndex.point(c)).assign(1.0);
        }
        INDArray diagonal = Nd4j.create(type, p);
        double[] beta = new double[k];
        for (int l = depth - 1; l >= 0; l--) {
            int out = architecture.fanOut(l);
            double[] b = back.data().asDouble();                                    // column-major [k n, out]
            double[] q = new double[n * out];                                       // column-major [n, out]
            for (int col = 0; col < out; col++) {
                for (int i = 0; i < n; i++) {
                    for (int c = 0; c < k; c++) {
                        beta[c] = b[col * rows + c * n + i];
                    }
                    double quadratic = 0;                                           // beta^T (d^2 l / dz^2)_i beta
                    for (int c = 0; c < k; c++) {
                        if (beta[c] == 0) {
                            continue;
                        }
                        double[] hc = outputHessian[c];
                        double s = 0;
                        for (int c2 = 0; c2 < k; c2++) {
                            s += hc[i * k + c2] * beta[c2];
                        }
                        quadratic += beta[c] * s;
                    }
                    q[col * n + i] = quadratic;
                }
            }
            INDArray qMatrix = Nd4j.create(type, new long[] {n, out}, 'f');
            qMatrix.data().setData(q);
            INDArray squares = inputs[l].mul(inputs[l]);
            Nd4j.gemm(squares, qMatrix, weightView(diagonal, l), true, false, 1.0 / n, 0.0);
            biasView(diagonal, l).assign(qMatrix.sum(0)).muli(1.0 / n);
            if (l > 0) {
                INDArray previous = Nd4j.create(type, new long[] {rows, architecture.fanIn(l)}, 'f');
                Nd4j.gemm(back, weights[l], previous, false, true, 1.0, 0.0);
                for (int c = 0; c < k; c++) {
                    previous.get(NDArrayIndex.interval(c * n, (c + 1) * n), NDArrayIndex.all()).muli(masks[l - 1]);
                }
                back = previous;
            }
        }
        return diagonal;
    }

    private SymmetricOperator operator(java.util.function.BiConsumer<INDArray, INDArray> product) {
        return new SymmetricOperator() {
            @Override
            public int dimension() {
                return p;
            }

            @Override
            public DataType dataType() {
                return type;
            }

            @Override
            public void apply(INDArray v, INDArray out) {
                product.accept(v, out);
            }
        };
    }

    private INDArray weightView(INDArray flat, int l) {
        int start = architecture.weightOffset(l);
        return flat.get(NDArrayIndex.interval(start, architecture.biasOffset(l)))
                .reshape('c', architecture.fanIn(l), architecture.fanOut(l));
    }

    private INDArray biasView(INDArray flat, int l) {
        int start = architecture.biasOffset(l);
        return flat.get(NDArrayIndex.interval(start, start + architecture.fanOut(l)));
    }

    /** Frees the prepared op contexts. */
    @Override
    public void close() {
        ops.close();
    }
}
