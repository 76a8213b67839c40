package io.sgdscope.trainer.model;

import io.sgdscope.trainer.data.Dataset;
import java.util.IdentityHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.api.ops.impl.reduce.same.Max;
import org.nd4j.linalg.api.ops.impl.reduce.same.Sum;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Exp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Log;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * R copies of one fully connected ReLU network, each with its own parameters, trained together with
 * batched (rank-3) matrix products: the ensemble engine of an experiment (Sec. 5.1 reads quantiles
 * across thousands of runs of one configuration).
 *
 * <p>Layout: the weights of layer l of all runs are one array {@code [R, out_l, in_l]} holding each
 * run's W_l transposed, the biases one {@code [R, out_l]}; activations are kept transposed too,
 * {@code [R, width, rows]}, so every layer is one batched product W_l^T h_l^T with no copies between
 * layers. On the full training set, which every run shares, the first layer of all R runs is a single
 * large product {@code [R h_1, d] x [d, n]}; the batched products of the later layers and of the
 * minibatches go through ND4J's {@code matmul} on rank-3 arrays.
 *
 * <p>The network, loss and gradient are exactly those of {@link Mlp} (h_{l+1} = relu(h_l W_l + b_l),
 * no ReLU on the logits, softmax cross-entropy averaged over the rows, Eq. 10-11; relu'(0) = 0), and
 * parameters move in and out in {@link MlpArchitecture}'s flat layout, so run r here and an {@link Mlp}
 * with the same theta compute the same numbers up to rounding. Precision: the network's (float64 or
 * float32) throughout, the full-data softmax head included; the minibatch head (R m k values) runs in
 * double in plain Java like {@link SoftmaxCrossEntropy}.
 *
 * <p>Not thread-safe; arrays are allocated once per dataset (and per minibatch size) and reused.
 */
public final class BatchedMlp {

    private final MlpArchitecture architecture;
    private final int runs;
    private final int depth;
    private final DataType type;
    /** weights[l]: [R, out_l, in_l], run r's W_l transposed. */
    private final INDArray[] weights;
    /** biases[l]: [R, out_l]. */
    private final INDArray[] biases;
    private final INDArray[] weightGradients;
    private final INDArray[] biasGradients;
    private final INDArray[] previousWeightGradients;
    private final INDArray[] previousBiasGradients;
    private final Map<Dataset, FullPass> fullPasses = new IdentityHashMap<>();
    private final BatchedProducts products = BackendProducts.create();
    private BatchPass batchPass;
    /** The dataset whose full forward pass holds the activations at the current parameters, or null. */
    private Dataset current;

    public BatchedMlp(MlpArchitecture architecture, Precision precision, int runs) {
        if (runs < 1) {
            throw new IllegalArgumentException("an ensemble needs at least one run, got " + runs);
        }
        this.architecture = architecture;
        this.runs = runs;
        this.depth = architecture.depth();
        this.type = precision.dataType();
        weights = new INDArray[depth];
        biases = new INDArray[depth];
        weightGradients = new INDArray[depth];
        biasGradients = new INDArray[depth];
        previousWeightGradients = new INDArray[depth];
        previousBiasGradients = new INDArray[depth];
        for (int l = 0; l < depth; l++) {
            int in = architecture.fanIn(l);
            int out = architecture.fanOut(l);
            weights[l] = Nd4j.create(type, runs, out, in);
            biases[l] = Nd4j.create(type, runs, out);
            weightGradients[l] = Nd4j.create(type, runs, out, in);
            biasGradients[l] = Nd4j.create(type, runs, out);
            previousWeightGradients[l] = Nd4j.create(type, runs, out, in);
            previousBiasGradients[l] = Nd4j.create(type, runs, out);
        }
    }

    public MlpArchitecture architecture() {
        return architecture;
    }

    public int runs() {
        return runs;
    }

    /** Sets run r's parameters from a flat theta in {@link MlpArchitecture}'s layout (W_l row-major [in, out], then b_l). */
    public void setParameters(int run, double[] theta) {
        current = null;
        if (theta.length != architecture.parameterCount()) {
            throw new IllegalArgumentException("theta has " + theta.length + " values, the network "
                    + architecture.parameterCount());
        }
        for (int l = 0; l < depth; l++) {                     // written in place: no ND4J op per run
            int in = architecture.fanIn(l);
            int out = architecture.fanOut(l);
            int w = architecture.weightOffset(l);
            Writable weight = writable(weights[l]);
            for (int i = 0; i < in; i++) {
                for (int j = 0; j < out; j++) {
                    weight.set((run * out + j) * in + i, theta[w + i * out + j]);     // W_l^T
                }
            }
            Writable bias = writable(biases[l]);
            for (int j = 0; j < out; j++) {
                bias.set(run * out + j, theta[architecture.biasOffset(l) + j]);
            }
        }
    }

    /** Run r's parameters as a flat theta in {@link MlpArchitecture}'s layout. */
    public double[] parametersAsDoubles(int run) {
        return flat(weights, biases, run);
    }

    /** Run r's latest stochastic gradient g_t, in the layout of theta. */
    public double[] gradientAsDoubles(int run) {
        return flat(weightGradients, biasGradients, run);
    }

    private double[] flat(INDArray[] transposedWeights, INDArray[] biasRows, int run) {
        double[] theta = new double[architecture.parameterCount()];
        for (int l = 0; l < depth; l++) {
            int in = architecture.fanIn(l);
            int out = architecture.fanOut(l);
            int w = architecture.weightOffset(l);
            double[] transposed = transposedWeights[l].tensorAlongDimension(run, 1, 2).dup('c').data().asDouble();
            for (int i = 0; i < in; i++) {
                for (int j = 0; j < out; j++) {
                    theta[w + i * out + j] = transposed[j * in + i];
                }
            }
            double[] bias = biasRows[l].getRow(run).dup().data().asDouble();
            System.arraycopy(bias, 0, theta, architecture.biasOffset(l), out);
        }
        return theta;
    }

    /**
     * f(theta_r) (Eq. 3) and the accuracy of every run on all rows of {@code data}.
     *
     * @param loss     receives the mean loss of each run, in nats
     * @param accuracy receives the fraction of rows whose largest logit is the label, per run
     */
    public void evaluate(Dataset data, double[] loss, double[] accuracy) {
        FullPass pass = fullPasses.computeIfAbsent(data, FullPass::new);
        pass.forward();
        current = data;
        pass.head(loss, accuracy);
    }

    /**
     * The minibatch loss and stochastic gradient g_t of every run (Eq. 8), run r on the rows
     * {@code indices[r m .. r m + m - 1]} (repeats allowed). The gradients replace the previous ones,
     * which are kept for {@link #gradientStatistics}.
     *
     * @param minibatchLoss receives each run's mean loss over its minibatch
     */
    public void lossAndGradient(Dataset data, int[] indices, int batchSize, double[] minibatchLoss) {
        if (indices.length != runs * batchSize) {
            throw new IllegalArgumentException("need " + runs + " x " + batchSize + " indices, got " + indices.length);
        }
        for (int l = 0; l < depth; l++) {                       // g_{t-1} <- g_t before g_t is overwritten
            INDArray w = previousWeightGradients[l];
            previousWeightGradients[l] = weightGradients[l];
            weightGradients[l] = w;
            INDArray b = previousBiasGradients[l];
            previousBiasGradients[l] = biasGradients[l];
            biasGradients[l] = b;
        }
        if (batchPass == null || batchPass.dataset != data || batchPass.rows != batchSize) {
            batchPass = new BatchPass(data, batchSize);
        }
        batchPass.select(indices);
        if (current != data) {                                  // the minibatch rows' activations come from it
            FullPass pass = fullPasses.computeIfAbsent(data, FullPass::new);
            pass.forward();
            current = data;
        }
        batchPass.gatherActivations(fullPasses.get(data));
        batchPass.headAndDelta(minibatchLoss);
        batchPass.backward();
    }

    /**
     * ||g_t|| and g_t . g_{t-1} of every run over all p parameters (Fig. 8), g_{t-1} being the gradient
     * of the previous {@link #lossAndGradient} call (zeros before the second). The norm is computed as
     * BLAS's nrm2 would, without overflow: a run whose sum of squares leaves the range of doubles (entries
     * beyond 1e154 on the way to divergence) gets it recomputed with scaling; the dot product is plain,
     * like BLAS's dot, and may overflow.
     */
    public void gradientStatistics(double[] norm, double[] dotWithPrevious) {
        // Summed in double over bulk copies of the arrays (one pass, instead of 24 small ND4J reductions).
        java.util.Arrays.fill(norm, 0);
        java.util.Arrays.fill(dotWithPrevious, 0);
        for (int l = 0; l < depth; l++) {
            accumulate(weightGradients[l], previousWeightGradients[l], norm, dotWithPrevious);
            accumulate(biasGradients[l], previousBiasGradients[l], norm, dotWithPrevious);
        }
        for (int r = 0; r < runs; r++) {
            double squared = norm[r];
            norm[r] = Double.isFinite(squared) && squared > 1e-290 || squared == 0 ? Math.sqrt(squared)
                    : scaledNorm(gradientAsDoubles(r));
        }
    }

    private double[] bufferG = new double[0];
    private double[] bufferP = new double[0];

    /** normSq[r] += sum g[r]^2, dot[r] += sum g[r] p[r] over the elements of run r in two [R, ...] arrays. */
    private void accumulate(INDArray g, INDArray p, double[] normSq, double[] dot) {
        int length = (int) g.length();
        if (bufferG.length < length) {
            bufferG = new double[length];
            bufferP = new double[length];
        }
        read(g, bufferG, length);
        read(p, bufferP, length);
        int perRun = length / runs;
        for (int r = 0; r < runs; r++) {
            double squares = 0;
            double products = 0;
            for (int i = r * perRun; i < (r + 1) * perRun; i++) {
                squares += bufferG[i] * bufferG[i];
                products += bufferG[i] * bufferP[i];
            }
            normSq[r] += squares;
            dot[r] += products;
        }
    }

    private static void read(INDArray array, double[] into, int length) {
        java.nio.ByteBuffer bytes = array.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        if (array.dataType() == DataType.DOUBLE) {
            bytes.asDoubleBuffer().get(into, 0, length);
        } else {
            java.nio.FloatBuffer floats = bytes.asFloatBuffer();
            for (int i = 0; i < length; i++) {
                into[i] = floats.get(i);
            }
        }
    }

    /** ||v|| as max|v_i| * sqrt(sum (v_i / max|v_i|)^2): finite whenever the norm is; NaN if an entry is. */
    static double scaledNorm(double[] v) {
        double scale = 0;
        for (double x : v) {
            if (Double.isNaN(x)) {
                return Double.NaN;
            }
            scale = Math.max(scale, Math.abs(x));
        }
        if (scale == 0 || Double.isInfinite(scale)) {
            return scale;
        }
        double sum = 0;
        for (double x : v) {
            double y = x / scale;
            sum += y * y;
        }
        return scale * Math.sqrt(sum);
    }

    /** theta_r <- theta_r - eta g_r for every run (Eq. 8, constant step). */
    public void step(double learningRate) {
        current = null;
        for (int l = 0; l < depth; l++) {
            Nd4j.exec(new Axpy(weightGradients[l], weights[l], weights[l], -learningRate));
            Nd4j.exec(new Axpy(biasGradients[l], biases[l], biases[l], -learningRate));
        }
    }

    /** Write access to the elements of a contiguous float or double array, in place. */
    private interface Writable {
        void set(int index, double value);
    }

    private static Writable writable(INDArray array) {
        java.nio.ByteBuffer bytes = array.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        if (array.dataType() == DataType.DOUBLE) {
            java.nio.DoubleBuffer doubles = bytes.asDoubleBuffer();
            return doubles::put;
        }
        java.nio.FloatBuffer floats = bytes.asFloatBuffer();
        return (index, value) -> floats.put(index, (float) value);
    }

    /** Read access to the elements of a contiguous float or double array, in place. */
    private interface Values {
        double get(int index);
    }

    private static Values values(INDArray array) {
        java.nio.ByteBuffer bytes = array.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        if (array.dataType() == DataType.DOUBLE) {
            java.nio.DoubleBuffer doubles = bytes.asDoubleBuffer();
            return doubles::get;
        }
        java.nio.FloatBuffer floats = bytes.asFloatBuffer();
        return floats::get;
    }

    /**
     * to[i] = from[positions[i]] over the elements of two contiguous arrays, through their native buffers
     * (ND4J's gather op takes ~1 us per index here, for single elements).
     */
    private static void gather(INDArray from, int[] positions, INDArray to) {
        java.nio.ByteBuffer source = from.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        java.nio.ByteBuffer target = to.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        if (from.dataType() == DataType.DOUBLE) {
            java.nio.DoubleBuffer x = source.asDoubleBuffer();
            java.nio.DoubleBuffer y = target.asDoubleBuffer();
            for (int i = 0; i < positions.length; i++) {
                y.put(i, x.get(positions[i]));
            }
        } else {
            java.nio.FloatBuffer x = source.asFloatBuffer();
            java.nio.FloatBuffer y = target.asFloatBuffer();
            for (int i = 0; i < positions.length; i++) {
                y.put(i, x.get(positions[i]));
            }
        }
    }

    /** Batched product out = op(a) op(b) over the leading run dimension ({@link BatchedProducts}). */
    private void matmul(INDArray a, INDArray b, INDArray out, boolean transposeA, boolean transposeB) {
        products.multiply(a, b, out, transposeA, transposeB);
    }

    /** A forward pass of all runs over all rows of a dataset. */
    private final class FullPass {
        final int rows;
        final int classes = architecture.classes();
        final int[] labels;
        /** The features transposed, [d, n]. */
        final INDArray featuresT;
        /** outputs[l]: [R, out_l, n], relu applied, for the hidden layers (and the logits of a net without any). */
        final INDArray[] outputs = new INDArray[depth];
        /**
         * The logits with a row per sample, [R, n, k]: the softmax head then reduces over contiguous rows of k
         * values (over the strided class axis of [R, k, n] ND4J's reductions were three times slower).
         */
        final INDArray logits;
        final INDArray max;
        final INDArray shifted;
        final INDArray logSumExp;

        FullPass(Dataset data) {
            if (data.inputDimension() != architecture.inputDimension() || data.classes() != architecture.classes()) {
                throw new IllegalArgumentException("the network " + architecture.layers() + " does not fit the dataset (d = "
                        + data.inputDimension() + ", k = " + data.classes() + ")");
            }
            rows = data.samples();
            labels = data.labels();
            featuresT = data.features().castTo(type).transpose().dup('c');
            for (int l = 0; l < depth; l++) {
                outputs[l] = Nd4j.create(type, runs, architecture.fanOut(l), rows);
            }
            logits = Nd4j.create(type, runs, rows, classes);
            if (depth > 1) {
                outputs[depth - 1] = logits;
            }
            max = Nd4j.create(type, runs, rows);
            shifted = Nd4j.create(type, runs, rows, classes);
            logSumExp = Nd4j.create(type, runs, rows);
        }

        void forward() {
            int h1 = architecture.fanOut(0);
            // Layer 0 of all runs as one product: [R h_1, d] x [d, n] (every run sees the same rows).
            Nd4j.gemm(weights[0].reshape('c', (long) runs * h1, architecture.inputDimension()), featuresT,
                    outputs[0].reshape('c', (long) runs * h1, rows), false, false, 1.0, 0.0);
            addBiasAndActivate(0);
            for (int l = 1; l < depth - 1; l++) {
                matmul(weights[l], outputs[l - 1], outputs[l], false, false);
                addBiasAndActivate(l);
            }
            if (depth > 1) {
                int last = depth - 1;
                matmul(outputs[last - 1], weights[last], logits, true, true);    // h^T W per run: [n, k]
                Nd4j.exec(new BroadcastAddOp(logits, biases[last], logits, 0, 2));
            } else {
                logits.assign(outputs[0].permute(0, 2, 1));
            }
        }

        private void addBiasAndActivate(int l) {
            Nd4j.exec(new BroadcastAddOp(outputs[l], biases[l], outputs[l], 0, 1));
            if (l < depth - 1) {
                Transforms.relu(outputs[l], false);
            }
        }

        /** Mean softmax cross-entropy per run (Eq. 10-11) with a stable log-sum-exp over the class axis, and accuracy. */
        void head(double[] loss, double[] accuracy) {
            Nd4j.exec(new Max(logits, max, 2));                                 // logits: [R, n, k]
            Nd4j.exec(new BroadcastSubOp(logits, max, shifted, 0, 1));
            Nd4j.exec(new Exp(shifted, shifted));
            Nd4j.exec(new Sum(shifted, logSumExp, 2));
            Nd4j.exec(new Log(logSumExp, logSumExp));                           // log sum_j exp(z_j - max)
            // The rest in double, reading the arrays in place: -log p(y_i | x_i) = max_i + logSumExp_i - z_{y_i}
            // (Eq. 10-11), summed per run; a row is right when its label's logit is the largest (ties count).
            Values z = values(logits);
            Values top = values(max);
            Values lse = values(logSumExp);
            for (int r = 0; r < runs; r++) {
                double sum = 0;
                int correct = 0;
                for (int i = 0; i < rows; i++) {
                    int row = r * rows + i;
                    double labelLogit = z.get(row * classes + labels[i]);
                    double rowMax = top.get(row);
                    sum += rowMax + lse.get(row) - labelLogit;
                    correct += labelLogit >= rowMax ? 1 : 0;
                }
                loss[r] = sum / rows;
                if (accuracy != null) {
                    accuracy[r] = (double) correct / rows;
                }
            }
        }
    }

    /** Forward and backward passes of all runs over their own minibatches of a fixed size. */
    private final class BatchPass {
        final Dataset dataset;
        final int rows;
        final int classes = architecture.classes();
        final INDArray features;
        final INDArray indexArray;
        final int[] labels;
        /** inputs: [R, m, d], each run's minibatch rows. */
        final INDArray inputs;
        /** outputs[l]: [R, out_l, m]. */
        final INDArray[] outputs = new INDArray[depth];
        /** deltas[l] = dLoss/d(pre-activation of layer l), [R, out_l, m]. */
        final INDArray[] deltas = new INDArray[depth];
        /** backpropagated[l] = W_l deltas[l], [R, in_l, m], for l >= 1. */
        final INDArray[] backpropagated = new INDArray[depth];
        final double[] delta;
        /** The minibatch rows of every run, [R m]. */
        final int[] rowIndices;
        final int[][] gatherPositions = new int[depth][];

        BatchPass(Dataset data, int rows) {
            this.dataset = data;
            this.rows = rows;
            this.features = data.features().dataType() == type ? data.features() : data.features().castTo(type);
            this.indexArray = Nd4j.create(DataType.INT32, (long) runs * rows);
            this.labels = new int[runs * rows];
            this.inputs = Nd4j.create(type, runs, rows, architecture.inputDimension());
            for (int l = 0; l < depth; l++) {
                outputs[l] = Nd4j.create(type, runs, architecture.fanOut(l), rows);
                deltas[l] = Nd4j.create(type, runs, architecture.fanOut(l), rows);
                if (l > 0) {
                    backpropagated[l] = Nd4j.create(type, runs, architecture.fanIn(l), rows);
                }
            }
            delta = new double[runs * classes * rows];
            rowIndices = new int[runs * rows];
            for (int l = 0; l < depth; l++) {
                gatherPositions[l] = new int[runs * architecture.fanOut(l) * rows];
            }
        }

        void select(int[] indices) {
            int[] all = dataset.labels();
            for (int i = 0; i < indices.length; i++) {
                labels[i] = all[indices[i]];
            }
            System.arraycopy(indices, 0, rowIndices, 0, indices.length);
            indexArray.data().setData(indices);
            Nd4j.exec(DynamicCustomOp.builder("gather")
                    .addInputs(features, indexArray)
                    .addOutputs(inputs.reshape('c', (long) runs * rows, architecture.inputDimension()))
                    .addIntegerArguments(0)
                    .build());
        }

        /**
         * The minibatch forward pass without arithmetic: a row's activations depend only on theta and the row,
         * so each run's minibatch activations (logits included) are columns of the full-data pass at the same
         * theta, gathered by index (hidden layer l of run r, unit j, batch row i is entry (r w_l + j) n + index(r, i)
         * of that pass's output).
         */
        void gatherActivations(FullPass full) {
            for (int l = 0; l < depth - 1; l++) {
                int width = architecture.fanOut(l);
                int[] positions = gatherPositions[l];
                for (int r = 0; r < runs; r++) {
                    for (int j = 0; j < width; j++) {
                        int from = (r * width + j) * full.rows;
                        int to = (r * width + j) * rows;
                        for (int i = 0; i < rows; i++) {
                            positions[to + i] = from + rowIndices[r * rows + i];
                        }
                    }
                }
                gather(full.outputs[l], positions, outputs[l]);
            }
            // The logits: entry (r n + index(r, i)) k + j of the full pass's [R, n, k] into [R, k, m].
            int[] positions = gatherPositions[depth - 1];
            for (int r = 0; r < runs; r++) {
                for (int j = 0; j < classes; j++) {
                    int to = (r * classes + j) * rows;
                    for (int i = 0; i < rows; i++) {
                        positions[to + i] = (r * full.rows + rowIndices[r * rows + i]) * classes + j;
                    }
                }
            }
            gather(full.logits, positions, outputs[depth - 1]);
        }

        /** Minibatch losses and dLoss/dlogits = (softmax(z) - onehot(y)) / m (Eq. 10-11), per run. */
        void headAndDelta(double[] minibatchLoss) {
            double[] logits = outputs[depth - 1].data().asDouble();            // [R, k, m]
            double[] column = new double[classes];
            for (int r = 0; r < runs; r++) {
                double sum = 0;
                int base = r * classes * rows;
                for (int i = 0; i < rows; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < classes; j++) {
                        column[j] = logits[base + j * rows + i];
                        max = Math.max(max, column[j]);
                    }
                    double expSum = 0;
                    for (int j = 0; j < classes; j++) {
                        expSum += Math.exp(column[j] - max);
                    }
                    double logSumExp = max + Math.log(expSum);
                    int y = labels[r * rows + i];
                    sum += logSumExp - column[y];
                    for (int j = 0; j < classes; j++) {
                        double p = Math.exp(column[j] - logSumExp);
                        delta[base + j * rows + i] = (p - (j == y ? 1.0 : 0.0)) / rows;
                    }
                }
                minibatchLoss[r] = sum / rows;
            }
            deltas[depth - 1].data().setData(delta);
        }

        /**
         * Backpropagation per run: grad W_l^T = delta_l h_l^T, grad b_l = delta_l summed over the rows,
         * delta_{l-1} = (W_l delta_l) * relu'(h_l), relu'(0) = 0.
         */
        void backward() {
            for (int l = depth - 1; l >= 0; l--) {
                if (l == 0) {
                    matmul(deltas[0], inputs, weightGradients[0], false, false);   // [R, h1, m] x [R, m, d]
                } else {
                    matmul(deltas[l], outputs[l - 1], weightGradients[l], false, true);
                }
                Nd4j.exec(new Sum(deltas[l], biasGradients[l], 2));
                if (l > 0) {
                    matmul(weights[l], deltas[l], backpropagated[l], true, false);
                    Nd4j.exec(DynamicCustomOp.builder("relu_bp")
                            .addInputs(outputs[l - 1], backpropagated[l])
                            .addOutputs(deltas[l - 1])
                            .build());
                }
            }
        }
    }
}
