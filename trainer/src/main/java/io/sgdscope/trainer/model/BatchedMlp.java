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
 * run's W_l transposed, the biases one {@code [R, out_l]}; activations have a row per sample,
 * {@code [R, rows, width]}, so every layer is one batched product h_l (W_l^T)^T ({@link BatchedProducts},
 * picked by the build: one OpenBLAS gemm per run on the CPU, ND4J's batched matmul on CUDA), the first
 * one reading the training set that every run shares. A minibatch's forward pass is not computed at
 * all: its rows' activations are rows of the full-data pass at the same theta, copied by index.
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
    /** Heap copies of the gradient arrays for {@link #gradientStatistics}: [2 l] weights, [2 l + 1] biases of layer l. */
    private final HeapCopy[] copies;
    /** Counts {@link #lossAndGradient} calls; the copies hold g of generation {@code copiedGeneration} (-1: none). */
    private long gradientGeneration;
    private long copiedGeneration = -1;
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
        copies = new HeapCopy[2 * depth];
        for (int i = 0; i < copies.length; i++) {
            copies[i] = new HeapCopy();
        }
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

    /**
     * About how many bytes of arrays one run takes: the parameters and three gradients, the full pass over the
     * training and test sets (every layer's outputs and the head's scratch), and the minibatch pass.
     */
    public static long bytesPerRun(MlpArchitecture architecture, Precision precision, int trainRows, int testRows,
                                   int batchSize) {
        long widths = 0;
        for (int l = 0; l < architecture.depth(); l++) {
            widths += architecture.fanOut(l);
        }
        long perRow = widths + 2L * architecture.classes() + 3;                 // outputs, shifted/exp, max, lse
        long values = 4L * architecture.parameterCount() + (trainRows + (long) testRows) * perRow
                + batchSize * (architecture.inputDimension() + 3 * widths);
        return values * (precision == Precision.FLOAT64 ? 8 : 4);
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
        gradientGeneration++;
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
        // Summed in double over bulk copies of the arrays (one pass, instead of 24 small ND4J reductions);
        // the copy of g_t is kept, so that the next call reads g_{t-1} from it instead of copying it again.
        java.util.Arrays.fill(norm, 0);
        java.util.Arrays.fill(dotWithPrevious, 0);
        boolean previousCopied = copiedGeneration == gradientGeneration - 1 && copiedGeneration >= 0;
        for (int l = 0; l < depth; l++) {
            accumulate(weightGradients[l], previousWeightGradients[l], copies[2 * l], previousCopied, norm, dotWithPrevious);
            accumulate(biasGradients[l], previousBiasGradients[l], copies[2 * l + 1], previousCopied, norm, dotWithPrevious);
        }
        copiedGeneration = gradientGeneration;
        for (int r = 0; r < runs; r++) {
            double squared = norm[r];
            norm[r] = Double.isFinite(squared) && squared > 1e-290 || squared == 0 ? Math.sqrt(squared)
                    : scaledNorm(gradientAsDoubles(r));
        }
    }

    /**
     * A gradient array copied to the heap: {@code current} holds g_t, {@code previous} g_{t-1} (the arrays
     * swap roles as the native ones do), in the model's precision.
     */
    private static final class HeapCopy {
        double[] currentDoubles = new double[0];
        double[] previousDoubles = new double[0];
        float[] currentFloats = new float[0];
        float[] previousFloats = new float[0];

        void swap() {
            double[] d = currentDoubles;
            currentDoubles = previousDoubles;
            previousDoubles = d;
            float[] f = currentFloats;
            currentFloats = previousFloats;
            previousFloats = f;
        }
    }

    /**
     * normSq[r] += sum g[r]^2, dot[r] += sum g[r] p[r] over the elements of run r in two [R, ...] arrays,
     * summed in double over heap copies of the arrays' native buffers; p is copied only when the last
     * call did not leave g_{t-1} behind.
     */
    private void accumulate(INDArray g, INDArray p, HeapCopy copy, boolean previousCopied, double[] normSq, double[] dot) {
        int length = (int) g.length();
        int perRun = length / runs;
        copy.swap();                                              // what was g_t last time is g_{t-1} now
        if (g.dataType() == DataType.DOUBLE) {
            if (copy.currentDoubles.length != length) {
                copy.currentDoubles = new double[length];
                copy.previousDoubles = new double[length];
                previousCopied = false;
            }
            g.data().asNio().order(java.nio.ByteOrder.nativeOrder()).asDoubleBuffer().get(copy.currentDoubles, 0, length);
            if (!previousCopied) {
                p.data().asNio().order(java.nio.ByteOrder.nativeOrder()).asDoubleBuffer().get(copy.previousDoubles, 0, length);
            }
            for (int r = 0; r < runs; r++) {
                sums(copy.currentDoubles, copy.previousDoubles, r * perRun, (r + 1) * perRun, r, normSq, dot);
            }
        } else {
            if (copy.currentFloats.length != length) {
                copy.currentFloats = new float[length];
                copy.previousFloats = new float[length];
                previousCopied = false;
            }
            g.data().asNio().order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer().get(copy.currentFloats, 0, length);
            if (!previousCopied) {
                p.data().asNio().order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer().get(copy.previousFloats, 0, length);
            }
            for (int r = 0; r < runs; r++) {
                sums(copy.currentFloats, copy.previousFloats, r * perRun, (r + 1) * perRun, r, normSq, dot);
            }
        }
    }

    /** normSq[r] += sum g_i^2, dot[r] += sum g_i p_i over [from, to), with four partial sums (no serial chain). */
    private static void sums(double[] g, double[] p, int from, int to, int r, double[] normSq, double[] dot) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            s0 += g[i] * g[i];
            s1 += g[i + 1] * g[i + 1];
            s2 += g[i + 2] * g[i + 2];
            s3 += g[i + 3] * g[i + 3];
            d0 += g[i] * p[i];
            d1 += g[i + 1] * p[i + 1];
            d2 += g[i + 2] * p[i + 2];
            d3 += g[i + 3] * p[i + 3];
        }
        for (; i < to; i++) {
            s0 += g[i] * g[i];
            d0 += g[i] * p[i];
        }
        normSq[r] += (s0 + s1) + (s2 + s3);
        dot[r] += (d0 + d1) + (d2 + d3);
    }

    /** The same in double over float values (each widened exactly, so the sums equal those over widened copies). */
    private static void sums(float[] g, float[] p, int from, int to, int r, double[] normSq, double[] dot) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            double g0 = g[i], g1 = g[i + 1], g2 = g[i + 2], g3 = g[i + 3];
            s0 += g0 * g0;
            s1 += g1 * g1;
            s2 += g2 * g2;
            s3 += g3 * g3;
            d0 += g0 * p[i];
            d1 += g1 * p[i + 1];
            d2 += g2 * p[i + 2];
            d3 += g3 * p[i + 3];
        }
        for (; i < to; i++) {
            double gi = g[i];
            s0 += gi * gi;
            d0 += gi * p[i];
        }
        normSq[r] += (s0 + s1) + (s2 + s3);
        dot[r] += (d0 + d1) + (d2 + d3);
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
     * Copies rows of {@code width} values: row (r, i) of {@code to} ([R, m, width], contiguous) is row
     * (r, index(r, i)) of {@code from} ([R, n, width], rows contiguous, any run and row strides), through the
     * arrays' native buffers (ND4J's gather op cannot take a different index set per run).
     */
    private static void copyRows(INDArray from, int[] indices, INDArray to, int toRows, int width) {
        long runStride = from.stride(0);
        long rowStride = from.stride(1);
        long offset = from.offset();
        java.nio.ByteBuffer source = from.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        java.nio.ByteBuffer target = to.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        int runs = indices.length / toRows;
        if (from.dataType() == DataType.DOUBLE) {
            java.nio.DoubleBuffer x = source.asDoubleBuffer();
            java.nio.DoubleBuffer y = target.asDoubleBuffer();
            for (int r = 0; r < runs; r++) {
                for (int i = 0; i < toRows; i++) {
                    y.put((r * toRows + i) * width, x, (int) (offset + r * runStride + indices[r * toRows + i] * rowStride), width);
                }
            }
        } else {
            java.nio.FloatBuffer x = source.asFloatBuffer();
            java.nio.FloatBuffer y = target.asFloatBuffer();
            for (int r = 0; r < runs; r++) {
                for (int i = 0; i < toRows; i++) {
                    y.put((r * toRows + i) * width, x, (int) (offset + r * runStride + indices[r * toRows + i] * rowStride), width);
                }
            }
        }
    }

    /** A forward pass of all runs over all rows of a dataset. */
    private final class FullPass {
        final int rows;
        final int classes = architecture.classes();
        final int[] labels;
        /** The features [n, d], shared by every run's first product. */
        final INDArray features;
        /** outputs[l]: [R, n, out_l], a row per sample; relu applied for hidden layers, the logits last. */
        final INDArray[] outputs = new INDArray[depth];
        /**
         * With hidden layers, layer 0 of all runs is one large product X [n, d] x [d, R h_1] into this
         * [n, R h_1] array; outputs[0] is a [R, n, h_1] view of it (run stride h_1, row stride R h_1).
         */
        final INDArray firstLayer;
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
            features = data.features().castTo(type).dup('c');
            for (int l = 0; l < depth; l++) {
                outputs[l] = Nd4j.create(type, runs, rows, architecture.fanOut(l));
            }
            int h1 = architecture.fanOut(0);
            firstLayer = depth > 1 ? Nd4j.create(type, rows, (long) runs * h1) : null;
            if (firstLayer != null) {
                outputs[0] = firstLayer.reshape('c', rows, runs, h1).permute(1, 0, 2);
            }
            max = Nd4j.create(type, runs, rows);
            shifted = Nd4j.create(type, runs, rows, classes);
            logSumExp = Nd4j.create(type, runs, rows);
        }

        /** h_{l+1} = relu(h_l W_l + b_l) per run, each layer one batched product h_l (W_l^T)^T; layer 0 shares X. */
        void forward() {
            int first = 0;
            if (firstLayer != null) {
                int h1 = architecture.fanOut(0);
                Nd4j.gemm(features, weights[0].reshape('c', (long) runs * h1, architecture.inputDimension()), firstLayer,
                        false, true, 1.0, 0.0);
                Nd4j.exec(new BroadcastAddOp(firstLayer, biases[0].reshape('c', new long[] {(long) runs * h1}), firstLayer, 1));
                Transforms.relu(firstLayer, false);
                first = 1;
            }
            for (int l = first; l < depth; l++) {
                products.multiply(l == 0 ? features : outputs[l - 1], weights[l], outputs[l], false, true);
                Nd4j.exec(new BroadcastAddOp(outputs[l], biases[l], outputs[l], 0, 2));
                if (l < depth - 1) {
                    Transforms.relu(outputs[l], false);
                }
            }
        }

        /** Mean softmax cross-entropy per run (Eq. 10-11) with a stable log-sum-exp over each row of k logits, and accuracy. */
        void head(double[] loss, double[] accuracy) {
            INDArray logits = outputs[depth - 1];                               // [R, n, k]
            Nd4j.exec(new Max(logits, max, 2));
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
        /** The minibatch rows of every run, [R m]. */
        final int[] rowIndices;
        /** inputs: [R, m, d], each run's minibatch rows. */
        final INDArray inputs;
        /** outputs[l]: [R, m, out_l], gathered from the full pass. */
        final INDArray[] outputs = new INDArray[depth];
        /** deltas[l] = dLoss/d(pre-activation of layer l), [R, m, out_l]. */
        final INDArray[] deltas = new INDArray[depth];
        /** backpropagated[l] = deltas[l] W_l^T, [R, m, in_l], for l >= 1. */
        final INDArray[] backpropagated = new INDArray[depth];
        final double[] delta;

        BatchPass(Dataset data, int rows) {
            this.dataset = data;
            this.rows = rows;
            this.features = data.features().dataType() == type ? data.features() : data.features().castTo(type);
            this.indexArray = Nd4j.create(DataType.INT32, (long) runs * rows);
            this.labels = new int[runs * rows];
            this.rowIndices = new int[runs * rows];
            this.inputs = Nd4j.create(type, runs, rows, architecture.inputDimension());
            for (int l = 0; l < depth; l++) {
                outputs[l] = Nd4j.create(type, runs, rows, architecture.fanOut(l));
                deltas[l] = Nd4j.create(type, runs, rows, architecture.fanOut(l));
                if (l > 0) {
                    backpropagated[l] = Nd4j.create(type, runs, rows, architecture.fanIn(l));
                }
            }
            delta = new double[runs * rows * classes];
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
         * so each run's minibatch activations (logits included) are rows of the full-data pass at the same
         * theta, copied by index (row index(r, i) of run r's block).
         */
        void gatherActivations(FullPass full) {
            for (int l = 0; l < depth; l++) {
                copyRows(full.outputs[l], rowIndices, outputs[l], rows, architecture.fanOut(l));
            }
        }

        /** Minibatch losses and dLoss/dlogits = (softmax(z) - onehot(y)) / m (Eq. 10-11), per run. */
        void headAndDelta(double[] minibatchLoss) {
            double[] logits = outputs[depth - 1].data().asDouble();            // [R, m, k]
            for (int r = 0; r < runs; r++) {
                minibatchLoss[r] = SoftmaxCrossEntropy.sumLoss(logits, r * rows, rows, labels, classes, null, delta, rows)
                        / rows;
            }
            deltas[depth - 1].data().setData(delta);
        }

        /**
         * Backpropagation per run: grad W_l^T = delta_l^T h_l, grad b_l = delta_l summed over the rows,
         * delta_{l-1} = (delta_l W_l^T) * relu'(h_l), relu'(0) = 0.
         */
        void backward() {
            for (int l = depth - 1; l >= 0; l--) {
                products.multiply(deltas[l], l == 0 ? inputs : outputs[l - 1], weightGradients[l], true, false);
                Nd4j.exec(new Sum(deltas[l], biasGradients[l], 1));
                if (l > 0) {
                    products.multiply(deltas[l], weights[l], backpropagated[l], false, false);
                    Nd4j.exec(DynamicCustomOp.builder("relu_bp")
                            .addInputs(outputs[l - 1], backpropagated[l])
                            .addOutputs(deltas[l - 1])
                            .build());
                }
            }
        }
    }
}
