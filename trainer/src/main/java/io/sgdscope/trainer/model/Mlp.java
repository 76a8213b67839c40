package io.sgdscope.trainer.model;

import io.sgdscope.trainer.data.Dataset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A fully connected ReLU network phi(theta; x) with the softmax cross-entropy loss (Eq. 3, 10, 11),
 * its parameters theta held as ONE flat vector (layout in {@link MlpArchitecture}) with per-layer
 * views, and the gradient by backpropagation into a second flat vector of the same layout.
 *
 * <p>Speed: the matrices of Gauss-k are tiny (100 x 50), so ND4J's per-call overhead, not
 * arithmetic, sets the pace. Every array is therefore allocated once (per dataset and per batch
 * size) and every op runs through a prepared, reused {@link OpContext} (about 2 us of overhead
 * per op here instead of 12-20 us for {@code mmul}/{@code Nd4j.gemm}); forward layers are single
 * fused {@code relu_layer} / {@code xw_plus_b} ops. Only the k-wide softmax head runs in plain Java
 * ({@link SoftmaxCrossEntropy}: stable, and cheaper than ND4J's).
 *
 * <p>Not thread-safe: one instance per run (per thread). {@link #close()} frees the native op contexts.
 */
public final class Mlp implements AutoCloseable {

    private final MlpArchitecture architecture;
    private final Precision precision;
    private final DataType type;
    private final int depth;
    private final INDArray theta;
    private final INDArray gradient;
    private final INDArray[] weights;
    private final INDArray[] biases;
    private final INDArray[] weightGradients;
    private final INDArray[] biasGradients;

    private final OpExecutioner executioner = Nd4j.getExecutioner();
    private final DynamicCustomOp reluLayerOp = DynamicCustomOp.builder("relu_layer").build();
    private final DynamicCustomOp affineOp = DynamicCustomOp.builder("xw_plus_b").build();
    private final DynamicCustomOp gatherOp = DynamicCustomOp.builder("gather").build();
    private final DynamicCustomOp matmulOp = DynamicCustomOp.builder("matmul").build();
    private final DynamicCustomOp reduceSumOp = DynamicCustomOp.builder("reduce_sum").build();
    private final DynamicCustomOp reluBackwardOp = DynamicCustomOp.builder("relu_bp").build();
    private final List<OpContext> contexts = new ArrayList<>();

    /** The datasets this model has run on (a run's training set and its test set), by identity. */
    private final Map<Dataset, Binding> bindings = new IdentityHashMap<>();

    /** A network with theta = 0; call {@link #initialize} or {@link #setParameters}. */
    public Mlp(MlpArchitecture architecture, Precision precision) {
        this.architecture = architecture;
        this.precision = precision;
        this.type = precision.dataType();
        this.depth = architecture.depth();
        int p = architecture.parameterCount();
        this.theta = Nd4j.zeros(type, p);
        this.gradient = Nd4j.zeros(type, p);
        this.weights = new INDArray[depth];
        this.biases = new INDArray[depth];
        this.weightGradients = new INDArray[depth];
        this.biasGradients = new INDArray[depth];
        for (int l = 0; l < depth; l++) {
            weights[l] = weightView(theta, l);
            biases[l] = biasView(theta, l);
            weightGradients[l] = weightView(gradient, l);
            biasGradients[l] = biasView(gradient, l);
        }
    }

    public MlpArchitecture architecture() {
        return architecture;
    }

    public Precision precision() {
        return precision;
    }

    /** p, the length of theta. */
    public int parameterCount() {
        return architecture.parameterCount();
    }

    /** theta itself (not a copy): [p], updated in place by the optimizer. */
    public INDArray parameters() {
        return theta;
    }

    /** The gradient of the last {@link #lossAndGradient} call (not a copy; overwritten by the next call). */
    public INDArray gradient() {
        return gradient;
    }

    /** View of W_l, [in_l, out_l]. */
    public INDArray weights(int l) {
        return weights[l];
    }

    /** View of b_l, [out_l]. */
    public INDArray biases(int l) {
        return biases[l];
    }

    /** Draws theta_0 with this initialisation from {@code random} (plain Java, not ND4J's RNG). */
    public void initialize(Initialization initialization, SplittableRandom random) {
        setParameters(initialization.draw(architecture, random));
    }

    /** Sets theta from p values in the layout of {@link MlpArchitecture}. */
    public void setParameters(double[] values) {
        if (values.length != parameterCount()) {
            throw new IllegalArgumentException("need p = " + parameterCount() + " values, got " + values.length);
        }
        theta.data().setData(values);
    }

    /** A float64 copy of theta. */
    public double[] parametersAsDoubles() {
        return theta.toDoubleVector();
    }

    /** f(theta) on the whole dataset (Eq. 3). */
    public double loss(Dataset data) {
        return evaluate(data).loss();
    }

    /** Mean loss over the given samples (repeats count as often as they occur). */
    public double loss(Dataset data, int[] indices) {
        Pass pass = bind(data).batch(indices.length);
        pass.select(indices, data.labels());
        pass.forward();
        return pass.head(null, false) / indices.length;
    }

    /** Share of the dataset's samples classified correctly at theta. */
    public double accuracy(Dataset data) {
        return evaluate(data).accuracy();
    }

    /** f(theta) (Eq. 3) and the accuracy on the whole dataset, from one forward pass. */
    public Evaluation evaluate(Dataset data) {
        Pass pass = bind(data).full;
        pass.forward();
        int[] correct = new int[1];
        double sum = pass.head(correct, false);
        return new Evaluation(sum / data.samples(), (double) correct[0] / data.samples());
    }

    /**
     * The minibatch loss (1/m) sum_{i in batch} f(theta; z_i) and, by backpropagation, its gradient
     * g = grad of that loss (the stochastic gradient of Eq. 8) into {@link #gradient()}.
     *
     * @param indices the m sample indices of the minibatch; repeats allowed (sampling with replacement)
     * @return the minibatch loss in nats
     */
    public double lossAndGradient(Dataset data, int[] indices) {
        Pass pass = bind(data).batch(indices.length);
        pass.select(indices, data.labels());
        pass.forward();
        double sum = pass.head(null, true);
        pass.backward();
        return sum / indices.length;
    }

    @Override
    public void close() {
        for (OpContext context : contexts) {
            try {
                context.close();
            } catch (Exception e) {
                throw new IllegalStateException("cannot free an ND4J op context", e);
            }
        }
        contexts.clear();
        bindings.clear();
    }

    private INDArray weightView(INDArray flat, int l) {
        int start = architecture.weightOffset(l);
        int end = architecture.biasOffset(l);
        return flat.get(NDArrayIndex.interval(start, end)).reshape('c', architecture.fanIn(l), architecture.fanOut(l));
    }

    private INDArray biasView(INDArray flat, int l) {
        int start = architecture.biasOffset(l);
        return flat.get(NDArrayIndex.interval(start, start + architecture.fanOut(l)));
    }

    /**
     * The arrays and prepared ops of a dataset, made on its first use and kept while the model lives
     * (a run alternates between its training and its test set).
     */
    private Binding bind(Dataset data) {
        Binding binding = bindings.get(data);
        if (binding == null) {
            if (data.inputDimension() != architecture.inputDimension() || data.classes() != architecture.classes()) {
                throw new IllegalArgumentException("the network " + architecture.layers() + " needs d = "
                        + architecture.inputDimension() + " and k = " + architecture.classes() + ", the dataset has d = "
                        + data.inputDimension() + " and k = " + data.classes());
            }
            binding = new Binding(data);
            bindings.put(data, binding);
        }
        return binding;
    }

    private OpContext context(INDArray[] inputs, INDArray output, long[] intArgs, double[] doubleArgs) {
        OpContext context = executioner.buildContext();
        context.setInputArrays(inputs);
        context.setOutputArrays(output);
        if (intArgs != null) {
            context.setIArguments(intArgs);
        }
        if (doubleArgs != null) {
            context.setTArguments(doubleArgs);
        }
        contexts.add(context);
        return context;
    }

    /** The arrays of one dataset in the model's precision, and the passes over it. */
    private final class Binding {
        final Dataset dataset;
        final INDArray features;
        final Pass full;
        final Map<Integer, Pass> batches = new HashMap<>();

        Binding(Dataset dataset) {
            this.dataset = dataset;
            this.features = dataset.features().dataType() == type ? dataset.features() : dataset.features().castTo(type);
            this.full = new Pass(features, dataset.labels());
        }

        Pass batch(int rows) {
            return batches.computeIfAbsent(rows, r -> new Pass(features, r));
        }
    }

    /** Preallocated arrays and op contexts for forward (and backward) passes over a fixed number of rows. */
    private final class Pass {
        final int rows;
        final int classes = architecture.classes();
        final int[] labels;
        final INDArray indices;
        final OpContext gather;
        /** activations[0] = the input rows, activations[l + 1] = output of layer l; the last are the logits. */
        final INDArray[] activations = new INDArray[depth + 1];
        final OpContext[] forward = new OpContext[depth];
        double[] delta;
        /** deltas[l] = dLoss/d(h_l W_l + b_l), [rows, out_l]. */
        INDArray[] deltas;
        /** backpropagated[l] = deltas[l] W_l^T, [rows, in_l], for l >= 1. */
        INDArray[] backpropagated;
        OpContext[] weightGradient;
        OpContext[] biasGradient;
        OpContext[] backpropagate;
        OpContext[] reluBackward;

        /** A pass over all rows of the features. */
        Pass(INDArray features, int[] labels) {
            this.rows = features.rows();
            this.labels = labels;
            this.indices = null;
            this.gather = null;
            activations[0] = features;
            prepareForward();
        }

        /** A pass over {@code rows} rows gathered from the features by index. */
        Pass(INDArray features, int rows) {
            this.rows = rows;
            this.labels = new int[rows];
            this.indices = Nd4j.create(DataType.INT32, rows);
            activations[0] = Nd4j.create(type, rows, features.columns());
            this.gather = context(new INDArray[] {features, indices}, activations[0], new long[] {0}, null);
            prepareForward();
        }

        private void prepareForward() {
            for (int l = 0; l < depth; l++) {
                activations[l + 1] = Nd4j.create(type, rows, architecture.fanOut(l));
                INDArray[] inputs = {activations[l], weights[l], biases[l]};
                forward[l] = context(inputs, activations[l + 1], null, null);
            }
        }

        void select(int[] sampleIndices, int[] allLabels) {
            for (int i = 0; i < rows; i++) {
                indices.data().put(i, sampleIndices[i]);
                labels[i] = allLabels[sampleIndices[i]];
            }
            executioner.exec(gatherOp, gather);
        }

        /** h_{l+1} = relu(h_l W_l + b_l) for hidden layers, logits = h_{L-1} W_{L-1} + b_{L-1}. */
        void forward() {
            for (int l = 0; l < depth; l++) {
                executioner.exec(l < depth - 1 ? reluLayerOp : affineOp, forward[l]);
            }
        }

        /** Summed loss of the rows (Eq. 10-11); with {@code withDelta} also dLoss/dlogits into deltas[L-1]. */
        double head(int[] correct, boolean withDelta) {
            double[] logits = activations[depth].data().asDouble();
            if (!withDelta) {
                return SoftmaxCrossEntropy.sumLoss(logits, labels, rows, classes, correct, null);
            }
            prepareBackward();
            double sum = SoftmaxCrossEntropy.sumLoss(logits, labels, rows, classes, correct, delta);
            deltas[depth - 1].data().setData(delta);
            return sum;
        }

        /**
         * Backpropagation: grad W_l = h_l^T delta_l, grad b_l = sum over rows of delta_l,
         * delta_{l-1} = (delta_l W_l^T) * relu'(h_l) with relu'(0) = 0 (h_l > 0 exactly where its pre-activation is).
         */
        void backward() {
            for (int l = depth - 1; l >= 0; l--) {
                executioner.exec(matmulOp, weightGradient[l]);
                executioner.exec(reduceSumOp, biasGradient[l]);
                if (l > 0) {
                    executioner.exec(matmulOp, backpropagate[l]);
                    executioner.exec(reluBackwardOp, reluBackward[l]);
                }
            }
        }

        private void prepareBackward() {
            if (deltas != null) {
                return;
            }
            delta = new double[rows * classes];
            deltas = new INDArray[depth];
            backpropagated = new INDArray[depth];
            weightGradient = new OpContext[depth];
            biasGradient = new OpContext[depth];
            backpropagate = new OpContext[depth];
            reluBackward = new OpContext[depth];
            for (int l = 0; l < depth; l++) {
                deltas[l] = Nd4j.create(type, rows, architecture.fanOut(l));
            }
            for (int l = 0; l < depth; l++) {
                // matmul integer args: transpose x, transpose y, transpose result; double args: alpha, beta.
                weightGradient[l] = context(new INDArray[] {activations[l], deltas[l]}, weightGradients[l],
                        new long[] {1, 0, 0}, new double[] {1.0, 0.0});
                biasGradient[l] = context(new INDArray[] {deltas[l]}, biasGradients[l], new long[] {0}, null);
                if (l > 0) {
                    backpropagated[l] = Nd4j.create(type, rows, architecture.fanIn(l));
                    backpropagate[l] = context(new INDArray[] {deltas[l], weights[l]}, backpropagated[l],
                            new long[] {0, 1, 0}, new double[] {1.0, 0.0});
                    reluBackward[l] = context(new INDArray[] {activations[l], backpropagated[l]}, deltas[l - 1], null, null);
                }
            }
        }
    }
}
