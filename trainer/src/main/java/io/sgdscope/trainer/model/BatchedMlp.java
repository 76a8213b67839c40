package io.sgdscope.trainer.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import io.sgdscope.trainer.data.Dataset;
import java.util.IdentityHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
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
 * <p>Layout: the weights of layer l of all runs are one array {@code [R, out_l, in_l + 1]} holding each
 * run's W_l transposed with b_l as the last column; activations have a row per sample and, for hidden
 * layers, a column of ones, {@code [R, rows, width + 1]}, so every layer is one batched product
 * [h_l, 1] [W_l; b_l] with the bias inside the product, no pass of its own ({@link BatchedProducts},
 * picked by the build: one OpenBLAS gemm per run on the CPU, ND4J's batched matmul on CUDA), the first
 * one reading the training set that every run shares. A minibatch's forward pass is not computed at
 * all: its rows' activations are rows of the full-data pass at the same theta, copied by index.
 *
 * <p>The network, loss and gradient are exactly those of {@link Mlp} (h_{l+1} = relu(h_l W_l + b_l),
 * no ReLU on the logits, softmax cross-entropy averaged over the rows, Eq. 10-11; relu'(0) = 0), and
 * parameters move in and out in {@link MlpArchitecture}'s flat layout, so run r here and an {@link Mlp}
 * with the same theta compute the same numbers up to rounding. Precision: the network's (float64 or
 * float32) throughout, the full-data softmax head included; the minibatch head reads the full pass's
 * softmax parts for its rows (exp(z - max), their sum and log, in the network's precision) and forms
 * the minibatch loss and (softmax - onehot) / m from them in double.
 *
 * <p>Not thread-safe; arrays are allocated once per dataset (and per minibatch size) and reused.
 */
public final class BatchedMlp {

    private final MlpArchitecture architecture;
    private final int runs;
    private final int depth;
    private final DataType type;
    /**
     * weights[l]: [R, rows_l, in_l + 1], run r's W_l transposed with b_l as its last column (so that a layer
     * is one product with its input and a column of ones, bias included). rows_l = out_l, except for layer 0
     * of a net with hidden layers: one more row, (0, ..., 0, 1), which makes the column of ones of layer 1's
     * input inside the one large product of layer 0 (its gradient is always 0, so it never changes).
     */
    private final INDArray[] weights;
    /** [R, out_l, in_l]: the weights without their bias column (views of {@link #weights}). */
    private final INDArray[] weightsWithoutBias;
    /** d loss / d weights[l], same shape (the bias's in the last column); the extra row of layer 0 stays 0. */
    private INDArray[] weightGradients;
    private INDArray[] previousWeightGradients;
    private final Map<Dataset, FullPass> fullPasses = new IdentityHashMap<>();
    private final BatchedProducts products = BackendProducts.create();
    private BatchPass batchPass;
    /** Heap scratch of {@link #gradientStatistics}: one run's slice of g_t and of g_{t-1}. */
    private double[] runDoubles = new double[0];
    private double[] previousRunDoubles = new double[0];
    private float[] runFloats = new float[0];
    private float[] previousRunFloats = new float[0];
    /** Counts changes of the parameters: a full pass is current when it was computed at this generation. */
    private long parameterGeneration;

    public BatchedMlp(MlpArchitecture architecture, Precision precision, int runs) {
        if (runs < 1) {
            throw new IllegalArgumentException("an ensemble needs at least one run, got " + runs);
        }
        this.architecture = architecture;
        this.runs = runs;
        this.depth = architecture.depth();
        this.type = precision.dataType();
        weights = new INDArray[depth];
        weightsWithoutBias = new INDArray[depth];
        weightGradients = new INDArray[depth];
        previousWeightGradients = new INDArray[depth];
        for (int l = 0; l < depth; l++) {
            int in = architecture.fanIn(l);
            weights[l] = Nd4j.create(type, runs, weightRows(l), in + 1);
            weightsWithoutBias[l] = weights[l].get(all(), interval(0, architecture.fanOut(l)), interval(0, in));
            weightGradients[l] = Nd4j.create(type, runs, weightRows(l), in + 1);
            previousWeightGradients[l] = Nd4j.create(type, runs, weightRows(l), in + 1);
        }
        if (depth > 1) {                                       // layer 0's row of ones: (0, ..., 0, 1) in every run
            weights[0].get(all(), point(architecture.fanOut(0)), point(architecture.inputDimension())).assign(1);
        }
    }

    /** Rows of weights[l] per run: out_l, and one more (the row of ones) for layer 0 of a net with hidden layers. */
    private int weightRows(int l) {
        return l == 0 && depth > 1 ? architecture.fanOut(0) + 1 : architecture.fanOut(l);
    }

    /** Columns of layer l's output arrays: out_l, and a column of ones beside a hidden layer's. */
    private int outputWidth(int l) {
        return l < depth - 1 ? architecture.fanOut(l) + 1 : architecture.fanOut(l);
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
        widths += architecture.depth() - 1;                                     // the columns of ones
        long perRow = widths + 2L * architecture.classes() + 4;                 // outputs, exp(z - max) (and slack), max, sum, lse
        long values = 4L * (architecture.parameterCount() + architecture.fanIn(0) + 1)
                + (trainRows + (long) testRows) * perRow + batchSize * (architecture.inputDimension() + 1 + 3 * widths);
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
        parameterGeneration++;
        write(weights, run, theta);
    }

    /** Writes run r's theta-layout vector into per-layer arrays of the weights' shape (the row of ones untouched). */
    private void write(INDArray[] arrays, int run, double[] theta) {
        if (theta.length != architecture.parameterCount()) {
            throw new IllegalArgumentException("theta has " + theta.length + " values, the network "
                    + architecture.parameterCount());
        }
        for (int l = 0; l < depth; l++) {                     // written in place: no ND4J op per run
            int in = architecture.fanIn(l);
            int out = architecture.fanOut(l);
            int w = architecture.weightOffset(l);
            int columns = in + 1;
            int first = run * weightRows(l);
            Writable weight = writable(arrays[l]);
            for (int j = 0; j < out; j++) {
                for (int i = 0; i < in; i++) {
                    weight.set((first + j) * columns + i, theta[w + i * out + j]);       // W_l^T
                }
                weight.set((first + j) * columns + in, theta[architecture.biasOffset(l) + j]);
            }
        }
    }

    /** Run r's parameters as a flat theta in {@link MlpArchitecture}'s layout. */
    public double[] parametersAsDoubles(int run) {
        return flat(weights, run);
    }

    /** Run r's values in a {@link #copyOfParameters copy}, as a flat theta in {@link MlpArchitecture}'s layout. */
    public double[] parametersAsDoubles(INDArray[] copy, int run) {
        return flat(copy, run);
    }

    /** Run r's latest stochastic gradient g_t, in the layout of theta. */
    public double[] gradientAsDoubles(int run) {
        return flat(weightGradients, run);
    }

    private double[] flat(INDArray[] transposedWeights, int run) {
        double[] theta = new double[architecture.parameterCount()];
        for (int l = 0; l < depth; l++) {
            int in = architecture.fanIn(l);
            int out = architecture.fanOut(l);
            int columns = in + 1;
            int w = architecture.weightOffset(l);
            double[] transposed = transposedWeights[l].tensorAlongDimension(run, 1, 2).dup('c').data().asDouble();
            for (int j = 0; j < out; j++) {
                for (int i = 0; i < in; i++) {
                    theta[w + i * out + j] = transposed[j * columns + i];
                }
                theta[architecture.biasOffset(l) + j] = transposed[j * columns + in];
            }
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
        pass.softmaxAtCurrentParameters();
        pass.lossAndAccuracy(loss, accuracy);
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
        }
        if (batchPass == null || batchPass.dataset != data || batchPass.rows != batchSize) {
            batchPass = new BatchPass(data, batchSize);
        }
        batchPass.select(indices);
        FullPass full = fullPasses.computeIfAbsent(data, FullPass::new);   // the minibatch rows' values come from it
        full.softmaxAtCurrentParameters();
        batchPass.gatherActivations(full);
        batchPass.headAndDelta(full, minibatchLoss);
        batchPass.backward();
    }

    /**
     * ||g_t|| and g_t . g_{t-1} of every run over all p parameters (Fig. 8), g_{t-1} being the gradient
     * of the previous {@link #lossAndGradient} call (zeros before the second). The norm is computed as
     * BLAS's nrm2 would, without overflow: a run whose sum of squares leaves the range of doubles (entries
     * beyond 1e154 on the way to divergence) gets it recomputed with scaling; the dot product is plain,
     * like BLAS's dot, and may overflow.
     *
     * <p>The client's {@code io.sgdscope.client.GradientTracker} computes the same ||g_t|| and cos(g_t, g_{t-1})
     * for one run's flat {@code double[]}/{@code float[]} gradient; this one reads the ensemble's layout ([R, ...]
     * weight arrays per layer, every run at once), so the two stay separate on purpose.
     */
    public void gradientStatistics(double[] norm, double[] dotWithPrevious) {
        // Summed in double over each run's slices copied to small heap arrays that stay in the L1 cache (one
        // pass, instead of 24 small ND4J reductions or copies of the whole arrays).
        java.util.Arrays.fill(norm, 0);
        java.util.Arrays.fill(dotWithPrevious, 0);
        for (int l = 0; l < depth; l++) {
            accumulate(weightGradients[l], previousWeightGradients[l], norm, dotWithPrevious);
        }
        for (int r = 0; r < runs; r++) {
            double squared = norm[r];
            norm[r] = Double.isFinite(squared) && squared > 1e-290 || squared == 0 ? Math.sqrt(squared)
                    : scaledNorm(gradientAsDoubles(r));
        }
    }

    /**
     * normSq[r] += sum g[r]^2, dot[r] += sum g[r] p[r] over the elements of run r in two contiguous [R, ...]
     * arrays, summed in double over each run's slices read from the arrays' native buffers.
     */
    private void accumulate(INDArray g, INDArray p, double[] normSq, double[] dot) {
        forEachRunSlice(g, p, new RunSlices() {
            @Override
            public void doubles(int run, double[] gRun, double[] pRun, int length) {
                sums(gRun, pRun, 0, length, run, normSq, dot);
            }

            @Override
            public void floats(int run, float[] gRun, float[] pRun, int length) {
                sums(gRun, pRun, 0, length, run, normSq, dot);
            }
        });
    }

    /** What is done with run r's elements of two [R, ...] arrays, copied to heap arrays by {@link #forEachRunSlice}. */
    private interface RunSlices {
        void doubles(int run, double[] a, double[] b, int length);

        void floats(int run, float[] a, float[] b, int length);
    }

    /**
     * Hands run r's elements of two contiguous [R, ...] arrays of the same shape and type, read from their native
     * buffers into small reused heap arrays (which stay in the L1 cache), to {@code slices}, for r = 0..R-1.
     */
    private void forEachRunSlice(INDArray a, INDArray b, RunSlices slices) {
        int perRun = (int) (a.length() / runs);
        java.nio.ByteBuffer aBytes = a.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        java.nio.ByteBuffer bBytes = b.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        if (a.dataType() == DataType.DOUBLE) {
            if (runDoubles.length < perRun) {
                runDoubles = new double[perRun];
                previousRunDoubles = new double[perRun];
            }
            java.nio.DoubleBuffer aValues = aBytes.asDoubleBuffer();
            java.nio.DoubleBuffer bValues = bBytes.asDoubleBuffer();
            for (int r = 0; r < runs; r++) {
                aValues.get(r * perRun, runDoubles, 0, perRun);
                bValues.get(r * perRun, previousRunDoubles, 0, perRun);
                slices.doubles(r, runDoubles, previousRunDoubles, perRun);
            }
        } else {
            if (runFloats.length < perRun) {
                runFloats = new float[perRun];
                previousRunFloats = new float[perRun];
            }
            java.nio.FloatBuffer aValues = aBytes.asFloatBuffer();
            java.nio.FloatBuffer bValues = bBytes.asFloatBuffer();
            for (int r = 0; r < runs; r++) {
                aValues.get(r * perRun, runFloats, 0, perRun);
                bValues.get(r * perRun, previousRunFloats, 0, perRun);
                slices.floats(r, runFloats, previousRunFloats, perRun);
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

    /**
     * A copy of every run's parameters now, in this model's own layout and precision (one copy of theta per run,
     * plus layer 0's row of ones): the starting points theta_0 for {@link #distancesFrom}.
     */
    public INDArray[] copyOfParameters() {
        INDArray[] copy = new INDArray[depth];
        for (int l = 0; l < depth; l++) {
            copy[l] = weights[l].dup('c');
        }
        return copy;
    }

    /** Sets run r's values in a {@link #copyOfParameters copy} from a flat theta (e.g. a resumed run's theta_0). */
    public void setParameters(INDArray[] copy, int run, double[] theta) {
        write(copy, run, theta);
    }

    /**
     * ||theta_r - start_r||_2 of every run (Corollary 4's ||theta - theta_0||, Eq. 52, with start a
     * {@link #copyOfParameters copy} taken at theta_0), summed in float64 over each run's slices in one pass (float32
     * values widened exactly); layer 0's row of ones is the same in both and adds 0.
     *
     * @param distance receives each run's distance
     */
    public void distancesFrom(INDArray[] start, double[] distance) {
        java.util.Arrays.fill(distance, 0);
        for (int l = 0; l < depth; l++) {
            accumulateDistance(weights[l], start[l], distance);
        }
        for (int r = 0; r < runs; r++) {
            distance[r] = Math.sqrt(distance[r]);
        }
    }

    /** squared[r] += sum (a[r] - b[r])^2 over the elements of run r in two contiguous [R, ...] arrays. */
    private void accumulateDistance(INDArray a, INDArray b, double[] squared) {
        forEachRunSlice(a, b, new RunSlices() {
            @Override
            public void doubles(int run, double[] aRun, double[] bRun, int length) {
                squared[run] += squaredDistance(aRun, bRun, length);
            }

            @Override
            public void floats(int run, float[] aRun, float[] bRun, int length) {
                squared[run] += squaredDistance(aRun, bRun, length);
            }
        });
    }

    /** sum (a_i - b_i)^2 over [0, length), with two partial sums. */
    private static double squaredDistance(double[] a, double[] b, int length) {
        double s0 = 0, s1 = 0;
        int i = 0;
        for (; i + 1 < length; i += 2) {
            double d0 = a[i] - b[i];
            double d1 = a[i + 1] - b[i + 1];
            s0 += d0 * d0;
            s1 += d1 * d1;
        }
        for (; i < length; i++) {
            double d = a[i] - b[i];
            s0 += d * d;
        }
        return s0 + s1;
    }

    /** The same in double over float values (each difference taken in double, exactly). */
    private static double squaredDistance(float[] a, float[] b, int length) {
        double s0 = 0, s1 = 0;
        int i = 0;
        for (; i + 1 < length; i += 2) {
            double d0 = (double) a[i] - b[i];
            double d1 = (double) a[i + 1] - b[i + 1];
            s0 += d0 * d0;
            s1 += d1 * d1;
        }
        for (; i < length; i++) {
            double d = (double) a[i] - b[i];
            s0 += d * d;
        }
        return s0 + s1;
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
        parameterGeneration++;
        for (int l = 0; l < depth; l++) {
            Nd4j.exec(new Axpy(weightGradients[l], weights[l], weights[l], -learningRate));   // biases included
        }
    }

    // Row form: one run per row of an [R, q] array, each run's parameters in this class's own layout (layer by layer,
    // the [rows_l, in_l + 1] block of W_l^T with b_l as its last column; q counts layer 0's row of ones, whose
    // gradient is always 0). Element-wise optimizers (Adam, Eq. 37-39; the diagonal preconditioner, Eq. 36) work on
    // it without reordering; their state goes to and from theta's layout only for a checkpoint.

    /** q, the values of one run in row form (p plus layer 0's row of ones, if any). */
    public int rowLength() {
        int q = 0;
        for (int l = 0; l < depth; l++) {
            q += weightRows(l) * (architecture.fanIn(l) + 1);
        }
        return q;
    }

    /** Every run's latest stochastic gradient g_t in row form, [R, q] (a new array, the model's type). */
    public INDArray gradientRows() {
        INDArray[] parts = new INDArray[depth];
        for (int l = 0; l < depth; l++) {
            parts[l] = weightGradients[l].reshape(runs, weightGradients[l].length() / runs);
        }
        return depth == 1 ? parts[0].dup() : Nd4j.concat(1, parts);
    }

    /** theta_r <- theta_r - update_r for every run, the update in row form [R, q]. */
    public void subtractRows(INDArray update) {
        parameterGeneration++;
        int offset = 0;
        for (int l = 0; l < depth; l++) {
            int size = (int) (weights[l].length() / runs);
            INDArray part = update.get(all(), interval(offset, offset + size)).dup('c')
                    .reshape('c', runs, weightRows(l), architecture.fanIn(l) + 1);
            weights[l].subi(part);
            offset += size;
        }
    }

    /** Row form [R, q] (the model's type) of one theta-layout vector per run (null: zeros), e.g. mu_t per run. */
    public INDArray rowsFromTheta(double[][] thetas) {
        INDArray[] parts = new INDArray[depth];
        for (int l = 0; l < depth; l++) {
            parts[l] = Nd4j.create(type, runs, weightRows(l), architecture.fanIn(l) + 1);
        }
        for (int r = 0; r < runs; r++) {
            if (thetas[r] != null) {
                write(parts, r, thetas[r]);
            }
        }
        for (int l = 0; l < depth; l++) {
            parts[l] = parts[l].reshape(runs, parts[l].length() / runs);
        }
        return depth == 1 ? parts[0] : Nd4j.concat(1, parts);
    }

    /** Run r's row of a row-form array [R, q], as a theta-layout vector of length p in float64. */
    public double[] thetaFromRows(INDArray rows, int run) {
        INDArray[] parts = new INDArray[depth];
        INDArray row = rows.get(point(run), all()).dup('c').reshape(1, rows.columns());   // only run r's values
        int offset = 0;
        for (int l = 0; l < depth; l++) {
            int size = (int) (weights[l].length() / runs);
            parts[l] = row.get(all(), interval(offset, offset + size)).dup('c')
                    .reshape('c', 1, weightRows(l), architecture.fanIn(l) + 1);
            offset += size;
        }
        return flat(parts, 0);
    }

    /**
     * Sets run r's latest stochastic gradient (theta's layout), which the next {@link #lossAndGradient} keeps as
     * g_{t-1}: a run continued from a checkpoint gets back the g_{t-1} of its cos(g_t, g_{t-1}) and its optimizer.
     */
    public void setGradient(int run, double[] gradient) {
        write(weightGradients, run, gradient);
    }

    /**
     * What {@link BatchedCurvature} reads of the full pass over a dataset at the current parameters.
     *
     * @param features the features and a column of ones, [n, d + 1], shared by every run
     * @param outputs  per layer [R, n, width]: relu outputs and a column of ones for hidden layers, the logits last
     * @param exps     exp(z - max) of the logits, [R, n, k]
     * @param sumExp   their row sums, [R, n]
     * @param labels   the n labels
     */
    record FullState(INDArray features, INDArray[] outputs, INDArray exps, INDArray sumExp, int[] labels) {}

    /** The full pass over {@code data} at the current parameters (computed unless it already is). */
    FullState fullState(Dataset data) {
        FullPass pass = fullPasses.computeIfAbsent(data, FullPass::new);
        pass.softmaxAtCurrentParameters();
        return new FullState(pass.features, pass.outputs, pass.exps, pass.sumExp, pass.labels);
    }

    /** Layer l's weights of every run without their bias column, [R, out_l, in_l] (W_l transposed; a view). */
    INDArray weightsWithoutBias(int l) {
        return weightsWithoutBias[l];
    }

    /** Write access to the elements of a contiguous float or double array, in place. */
    interface Writable {
        void set(int index, double value);
    }

    static Writable writable(INDArray array) {
        java.nio.ByteBuffer bytes = array.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        if (array.dataType() == DataType.DOUBLE) {
            java.nio.DoubleBuffer doubles = bytes.asDoubleBuffer();
            return doubles::put;
        }
        java.nio.FloatBuffer floats = bytes.asFloatBuffer();
        return (index, value) -> floats.put(index, (float) value);
    }

    /** Read access to the elements of a contiguous float or double array, in place. */
    interface Values {
        double get(int index);
    }

    static Values values(INDArray array) {
        java.nio.ByteBuffer bytes = array.data().asNio().order(java.nio.ByteOrder.nativeOrder());
        if (array.dataType() == DataType.DOUBLE) {
            java.nio.DoubleBuffer doubles = bytes.asDoubleBuffer();
            return doubles::get;
        }
        java.nio.FloatBuffer floats = bytes.asFloatBuffer();
        return floats::get;
    }

    /** A forward pass of all runs over all rows of a dataset. */
    private final class FullPass {
        final int rows;
        final int classes = architecture.classes();
        final int[] labels;
        /** The features and a column of ones [n, d + 1], shared by every run's first product. */
        final INDArray features;
        /**
         * outputs[l]: [R, n, outputWidth(l)], a row per sample; for hidden layers relu(h W + b) and a column
         * of ones (the next layer's bias), the logits last.
         */
        final INDArray[] outputs = new INDArray[depth];
        /** Where each layer's product goes: its outputs without the column of ones. */
        final INDArray[] productTargets = new INDArray[depth];
        /**
         * With hidden layers, layer 0 of all runs is one large product [X, 1] [n, d + 1] x [d + 1, R (h_1 + 1)]
         * into this [n, R (h_1 + 1)] array (the row of ones of weights[0] makes each run's column of ones);
         * outputs[0] is a [R, n, h_1 + 1] view of it (run stride h_1 + 1, row stride R (h_1 + 1)).
         */
        final INDArray firstLayer;
        /** The softmax parts per row: the largest logit, exp(z - max) [R, n, k], their sum, its log. */
        final INDArray max;
        final INDArray exps;
        final INDArray sumExp;
        final INDArray logSumExp;
        /** The parameter generations the outputs and the softmax parts were computed at (-1: never). */
        long forwardGeneration = -1;
        long softmaxGeneration = -1;

        FullPass(Dataset data) {
            if (data.inputDimension() != architecture.inputDimension() || data.classes() != architecture.classes()) {
                throw new IllegalArgumentException("the network " + architecture.layers() + " does not fit the dataset (d = "
                        + data.inputDimension() + ", k = " + data.classes() + ")");
            }
            rows = data.samples();
            labels = data.labels();
            features = withOnes(data.features());
            for (int l = 0; l < depth; l++) {
                outputs[l] = Nd4j.create(type, runs, rows, outputWidth(l));
                if (l < depth - 1) {
                    outputs[l].get(all(), all(), point(architecture.fanOut(l))).assign(1);
                }
                productTargets[l] = l < depth - 1 ? outputs[l].get(all(), all(), interval(0, architecture.fanOut(l))) : outputs[l];
            }
            int h1 = architecture.fanOut(0);
            firstLayer = depth > 1 ? Nd4j.create(type, rows, (long) runs * (h1 + 1)) : null;
            if (firstLayer != null) {
                outputs[0] = firstLayer.reshape('c', rows, runs, h1 + 1).permute(1, 0, 2);
                productTargets[0] = null;
            }
            max = Nd4j.create(type, runs, rows);
            exps = Nd4j.create(type, runs, rows, classes);
            sumExp = Nd4j.create(type, runs, rows);
            logSumExp = Nd4j.create(type, runs, rows);
        }

        /**
         * h_{l+1} = relu(h_l W_l + b_l) per run, each layer one batched product [h_l, 1] [W_l; b_l] (bias
         * included); layer 0 shares X.
         */
        void forward() {
            int first = 0;
            if (firstLayer != null) {
                int h1 = architecture.fanOut(0);
                Nd4j.gemm(features, weights[0].reshape('c', (long) runs * (h1 + 1), architecture.inputDimension() + 1),
                        firstLayer, false, true, 1.0, 0.0);
                Transforms.relu(firstLayer, false);                              // the columns of ones stay 1
                first = 1;
            }
            for (int l = first; l < depth; l++) {
                products.multiply(l == 0 ? features : outputs[l - 1], weights[l], productTargets[l], false, true);
                if (l < depth - 1) {
                    Transforms.relu(outputs[l], false);
                }
            }
        }

        /**
         * The outputs and the softmax parts of every row at the current parameters, computed unless they
         * already are: a stable log-sum-exp over each row of k logits (Eq. 10-11).
         */
        void softmaxAtCurrentParameters() {
            if (forwardGeneration != parameterGeneration) {
                forward();
                forwardGeneration = parameterGeneration;
            }
            if (softmaxGeneration != parameterGeneration) {
                INDArray logits = outputs[depth - 1];                           // [R, n, k]
                Nd4j.exec(new Max(logits, max, 2));
                Nd4j.exec(new BroadcastSubOp(logits, max, exps, 0, 1));
                Nd4j.exec(new Exp(exps, exps));
                Nd4j.exec(new Sum(exps, sumExp, 2));
                Nd4j.exec(new Log(sumExp, logSumExp));                          // log sum_j exp(z_j - max)
                softmaxGeneration = parameterGeneration;
            }
        }

        /**
         * Mean softmax cross-entropy per run (Eq. 10-11) and accuracy, from the softmax parts of
         * {@link #softmaxAtCurrentParameters}.
         */
        void lossAndAccuracy(double[] loss, double[] accuracy) {
            INDArray logits = outputs[depth - 1];
            // In double, reading the arrays in place: -log p(y_i | x_i) = (max_i - z_{y_i}) + logSumExp_i
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
                    sum += (rowMax - labelLogit) + lse.get(row);
                    correct += labelLogit >= rowMax ? 1 : 0;
                }
                loss[r] = sum / rows;
                if (accuracy != null) {
                    accuracy[r] = (double) correct / rows;
                }
            }
        }
    }

    /**
     * Forward and backward passes of all runs over their own minibatches of a fixed size. Everything but
     * the products runs on heap copies ({@link HostArray}): the minibatch rows, the head, the ReLU derivative.
     */
    private final class BatchPass {
        final Dataset dataset;
        final int rows;
        final int classes = architecture.classes();
        final int[] labels;
        /** The minibatch rows of every run, [R m]. */
        final int[] rowIndices;
        /** The dataset's features and a column of ones, [n, d + 1] packed rows. */
        final HostArray featureRows;
        /** inputs: [R, m, d + 1], each run's minibatch rows and a column of ones. */
        final INDArray inputs;
        /**
         * outputs[l] for hidden layers: [R, m, fanOut(l) + 1], rows of the full pass (with their column of ones);
         * hostOutputs[l] the same values on the heap.
         */
        final INDArray[] outputs = new INDArray[depth];
        final HostArray[] hostOutputs = new HostArray[depth];
        /** deltas[l] = dLoss/d(pre-activation of layer l), [R, m, out_l]. */
        final INDArray[] deltas = new INDArray[depth];
        /** backpropagated[l] = deltas[l] W_l^T, [R, m, in_l], for l >= 1. */
        final INDArray[] backpropagated = new INDArray[depth];
        /** Heap scratch: the input rows, the logits' delta, the values backpropagated through a layer. */
        final HostArray scratch;

        BatchPass(Dataset data, int rows) {
            this.dataset = data;
            this.rows = rows;
            this.featureRows = HostArray.copyOf(withOnes(data.features()));
            this.labels = new int[runs * rows];
            this.rowIndices = new int[runs * rows];
            this.inputs = Nd4j.create(type, runs, rows, architecture.inputDimension() + 1);
            int widest = Math.max(architecture.inputDimension() + 1, classes);
            for (int l = 0; l < depth; l++) {
                deltas[l] = Nd4j.create(type, runs, rows, architecture.fanOut(l));
                if (l < depth - 1) {
                    outputs[l] = Nd4j.create(type, runs, rows, outputWidth(l));
                    hostOutputs[l] = HostArray.of(type, runs * rows * outputWidth(l));
                }
                if (l > 0) {
                    backpropagated[l] = Nd4j.create(type, runs, rows, architecture.fanIn(l));
                    widest = Math.max(widest, architecture.fanIn(l));
                }
            }
            scratch = HostArray.of(type, runs * rows * widest);
        }

        void select(int[] indices) {
            int[] all = dataset.labels();
            for (int i = 0; i < indices.length; i++) {
                labels[i] = all[indices[i]];
            }
            System.arraycopy(indices, 0, rowIndices, 0, indices.length);
            int width = architecture.inputDimension() + 1;
            scratch.gatherRows(featureRows, rowIndices, width);
            scratch.writeTo(inputs, runs * rows * width);
        }

        /**
         * The minibatch forward pass without arithmetic: a row's activations depend only on theta and the row,
         * so each run's minibatch activations are rows of the full-data pass at the same theta, copied by index
         * (row index(r, i) of run r's block). The logits are not needed: the head reads the full pass's softmax.
         */
        void gatherActivations(FullPass full) {
            for (int l = 0; l < depth - 1; l++) {
                hostOutputs[l].gatherRows(full.outputs[l], rowIndices, rows, outputWidth(l));
                hostOutputs[l].writeTo(outputs[l], runs * rows * outputWidth(l));
            }
        }

        /**
         * Minibatch losses and dLoss/dlogits = (softmax(z) - onehot(y)) / m (Eq. 10-11), per run, in double from
         * the full pass's softmax parts of the minibatch rows: softmax(z)_j = exp(z_j - max) / sum, loss =
         * (max - z_y) + log sum.
         */
        void headAndDelta(FullPass full, double[] minibatchLoss) {
            Values z = values(full.outputs[depth - 1]);
            Values top = values(full.max);
            Values exps = values(full.exps);
            Values sums = values(full.sumExp);
            Values lse = values(full.logSumExp);
            int n = full.rows;
            for (int r = 0; r < runs; r++) {
                double loss = 0;
                for (int i = 0; i < rows; i++) {
                    int j = r * rows + i;
                    int row = r * n + rowIndices[j];
                    int label = labels[j];
                    loss += (top.get(row) - z.get(row * classes + label)) + lse.get(row);
                    double sum = sums.get(row);
                    for (int c = 0; c < classes; c++) {
                        double p = exps.get(row * classes + c) / sum;
                        scratch.set(j * classes + c, ((c == label ? p - 1 : p)) / rows);
                    }
                }
                minibatchLoss[r] = loss / rows;
            }
            scratch.writeTo(deltas[depth - 1], runs * rows * classes);
        }

        /**
         * Backpropagation per run: grad [W_l^T, b_l] = delta_l^T [h_l, 1] (the bias's gradient, delta_l summed
         * over the rows, is the last column), delta_{l-1} = (delta_l W_l^T) * relu'(h_l), relu'(0) = 0.
         */
        void backward() {
            for (int l = depth - 1; l >= 0; l--) {
                INDArray target = l == 0 && depth > 1
                        ? weightGradients[0].get(all(), interval(0, architecture.fanOut(0)), all())
                        : weightGradients[l];
                products.multiply(deltas[l], l == 0 ? inputs : outputs[l - 1], target, true, false);
                if (l > 0) {
                    products.multiply(deltas[l], weightsWithoutBias[l], backpropagated[l], false, false);
                    int count = runs * rows * architecture.fanIn(l);
                    scratch.readFrom(backpropagated[l], count);
                    scratch.keepWherePositive(hostOutputs[l - 1], runs * rows, architecture.fanIn(l));
                    scratch.writeTo(deltas[l - 1], count);
                }
            }
        }
    }

    /** The features in the model's type with a column of ones appended, [n, d + 1], contiguous. */
    private INDArray withOnes(INDArray features) {
        INDArray x = features.castTo(type);
        return Nd4j.hstack(x, Nd4j.ones(type, x.rows(), 1)).dup('c');
    }
}
