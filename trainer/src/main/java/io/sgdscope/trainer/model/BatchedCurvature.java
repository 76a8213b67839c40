package io.sgdscope.trainer.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import io.sgdscope.trainer.data.Dataset;
import java.nio.ByteOrder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The exact curvature of every run of a {@link BatchedMlp} on its full training set, with batched products: what
 * {@code curvature.NetworkCurvature} computes for one run, for a block of runs at once. {@link #freeze} takes the
 * full-data pass at the current parameters (the layer inputs a_l with their column of ones, relu'(z_l) with
 * relu'(0) = 0, the softmax) and backpropagates the per-sample signals delta_{l,i} = d f(theta; z_i) / d z_{l,i}
 * (not divided by n); then
 * <ul>
 *   <li>{@link #sampleGrams} gives each run's n x n Gram matrix of the per-sample gradients,
 *       G_ij = sum_l (delta_{l,i}^T delta_{l,j}) (a_{l,i}^T a_{l,j} + 1) (the +1 is the bias, the column of ones:
 *       the identity of docs/quantities.md), from which the moments of Eq. 4-7 follow
 *       ({@code GradientMoments.fromGram});</li>
 *   <li>{@link #hessianTimes} gives H_f v (Eq. 6) of every run for its own direction by the R-operator
 *       (Pearlmutter): R{z_l} = [a_l, 1] V_l + R{a_l} W_l with R{a_{l+1}} = relu'(z_l) o R{z_l}, the head's
 *       R{delta} = (diag(p) - p p^T) R{z}, and backwards H v_l = (1/n) ([a_l, 1]^T R{delta_l} + R{a_l}^T delta_l),
 *       R{delta_{l-1}} = (R{delta_l} W_l^T + delta_l V_l^T) o relu'(z_{l-1});</li>
 *   <li>{@link #secondMomentTimes} gives M_t v (Eq. 7) and {@link #predictionHessianTimes} H_p v = M_t v - H_f v
 *       (Eq. 12) of every run, for the spectra of a block's runs.</li>
 * </ul>
 * Every product is one batched product over the runs ({@link BatchedProducts}); the first layer's input, the
 * training set, is one matrix that all runs share.
 *
 * <p>Vectors move in and out as heap float64 arrays of R p values, run r's theta-shaped vector (the layout of
 * {@link MlpArchitecture}) at r p. That layout is, layer by layer, [W_l; b_l] as an [in_l + 1, out_l] row-major
 * block, so the direction and the product are one [R, p] array each, seen per layer as [R, in_l + 1, out_l] views
 * that go straight into the products.
 *
 * <p>Precision: the products and element-wise passes in the network's data type; the softmax head and the
 * vectors handed in and out in float64. Memory: about six arrays of the full pass's size plus, per call of
 * {@link #sampleGrams}, two [runs, n, n] arrays (and their heap copies) for the most runs asked for at once, kept
 * from call to call. Not thread-safe: one per block.
 */
public final class BatchedCurvature {

    private final BatchedMlp model;
    private final Dataset data;
    private final MlpArchitecture architecture;
    private final BatchedProducts products = BackendProducts.create();
    private final DataType type;
    private final int runs;
    private final int depth;
    private final int n;
    private final int k;
    private final int p;
    /** The full pass of the last {@link #freeze}. */
    private BatchedMlp.FullState state;
    /** relu'(z_l) in {0, 1}, [R, n, out_l], hidden layers. */
    private final INDArray[] masks;
    /** delta_l per sample, [R, n, out_l]. */
    private final INDArray[] deltas;
    /** The softmax probabilities of every run and row, [R n k] float64. */
    private final double[] probabilities;
    /** X X^T + 1 of the shared first-layer input [X, 1], [n, n] float64. */
    private final double[] inputGram;
    // The R-operator's buffers.
    private final INDArray direction;
    private final INDArray product;
    private final INDArray[] directionBlocks;
    private final INDArray[] directionWeights;
    private final INDArray[] productBlocks;
    private final INDArray[] productWeights;
    private final INDArray[] rz;
    private final INDArray[] ra;
    private final INDArray[] rdelta;
    private final double[] headIn;
    /** {@link #sampleGrams}' products ([runs, n, n] in the network's type) and their heap copies, for up to this many runs. */
    private int gramCapacity;
    private INDArray ddBuffer;
    private INDArray aaBuffer;
    private double[] ddValues;
    private double[] aaValues;
    private final double[] headOut;
    /** R{delta_l} - diag(J v) delta_l, [R, n, out_l], of {@link #predictionHessianTimes}: made when first needed. */
    private INDArray[] combined;

    /** The curvature of {@code model}'s runs on {@code data}, its full training set; {@link #freeze} before use. */
    public BatchedCurvature(BatchedMlp model, Dataset data) {
        this.model = model;
        this.data = data;
        this.architecture = model.architecture();
        this.runs = model.runs();
        this.depth = architecture.depth();
        this.n = data.samples();
        this.k = architecture.classes();
        this.p = architecture.parameterCount();
        state = model.fullState(data);
        this.type = state.exps().dataType();
        masks = new INDArray[depth];
        deltas = new INDArray[depth];
        rz = new INDArray[depth];
        ra = new INDArray[depth];
        rdelta = new INDArray[depth];
        directionBlocks = new INDArray[depth];
        directionWeights = new INDArray[depth];
        productBlocks = new INDArray[depth];
        productWeights = new INDArray[depth];
        direction = Nd4j.create(type, runs, p);
        product = Nd4j.create(type, runs, p);
        for (int l = 0; l < depth; l++) {
            int in = architecture.fanIn(l);
            int out = architecture.fanOut(l);
            deltas[l] = Nd4j.create(type, runs, n, out);
            rz[l] = Nd4j.create(type, runs, n, out);
            rdelta[l] = Nd4j.create(type, runs, n, out);
            if (l < depth - 1) {
                masks[l] = Nd4j.create(type, runs, n, out);
            }
            if (l > 0) {
                ra[l] = Nd4j.create(type, runs, n, in);
            }
            directionBlocks[l] = block(direction, l, in + 1);
            directionWeights[l] = block(direction, l, in);
            productBlocks[l] = block(product, l, in + 1);
            productWeights[l] = block(product, l, in);
        }
        probabilities = new double[runs * n * k];
        headIn = new double[runs * n * k];
        headOut = new double[runs * n * k];
        INDArray x = state.features().castTo(DataType.DOUBLE);
        inputGram = x.mmul(x.transpose()).dup('c').data().asDouble();       // a_0,i^T a_0,j + 1 (ones column)
    }

    /**
     * About how many bytes of arrays in the network's type one run takes here: the signals, R-operator passes and
     * their scratch (about eight arrays of n values per unit) and the direction and product (2 p).
     */
    public static long bytesPerRun(MlpArchitecture architecture, Precision precision, int samples) {
        long units = 0;
        for (int l = 0; l < architecture.depth(); l++) {
            units += architecture.fanOut(l);
        }
        long values = 8L * samples * units + 3L * architecture.parameterCount();
        return values * (precision == Precision.FLOAT64 ? 8 : 4);
    }

    /** The first {@code rows} rows of layer l's [in_l + 1, out_l] block of every run's vector in an [R, p] array, a view. */
    private INDArray block(INDArray flat, int l, int rows) {
        int out = architecture.fanOut(l);
        return Nd4j.create(flat.data(), new long[] {runs, rows, out}, new long[] {p, out, 1},
                architecture.weightOffset(l), 'c');
    }

    public int runs() {
        return runs;
    }

    /** n, the samples of the training set. */
    public int samples() {
        return n;
    }

    /** p, the parameters of one run. */
    public int parameterCount() {
        return p;
    }

    /**
     * Takes the model's current parameters: the full pass (computed unless current), relu'(z_l), the softmax and
     * the per-sample backward signals delta_l = (delta_{l+1} W_{l+1}^T) o relu'(z_l), delta_{L-1} = p - onehot(y)
     * (Eq. 10-11).
     */
    public void freeze() {
        state = model.fullState(data);
        for (int l = 0; l < depth - 1; l++) {
            masks[l].assign(state.outputs()[l].get(all(), all(), interval(0, architecture.fanOut(l))));
            Transforms.sign(masks[l], false);                                // relu outputs >= 0: 1 where > 0
        }
        BatchedMlp.Values exps = BatchedMlp.values(state.exps());
        BatchedMlp.Values sums = BatchedMlp.values(state.sumExp());
        int[] labels = state.labels();
        double[] signal = headIn;
        for (int r = 0; r < runs; r++) {
            for (int i = 0; i < n; i++) {
                int row = r * n + i;
                double sum = sums.get(row);
                for (int c = 0; c < k; c++) {
                    double probability = exps.get(row * k + c) / sum;
                    probabilities[row * k + c] = probability;
                    signal[row * k + c] = c == labels[i] ? probability - 1 : probability;
                }
            }
        }
        write(signal, deltas[depth - 1]);
        for (int l = depth - 1; l > 0; l--) {
            products.multiply(deltas[l], model.weightsWithoutBias(l), deltas[l - 1], false, false);
            deltas[l - 1].muli(masks[l - 1]);
        }
    }

    /**
     * The Gram matrices G = J J^T of the per-sample gradients of runs {@code from .. to - 1}:
     * G_ij = sum_l (delta_{l,i}^T delta_{l,j}) (a_{l,i}^T a_{l,j} + 1), run {@code from + c}'s n x n values
     * (row-major, symmetric) at c n^2 of {@code out}, in float64 (the products in the network's type). Each
     * delta_l delta_l^T and a_l a_l^T is a symmetric rank-k update ({@link BatchedProducts#selfProducts}: the upper
     * triangle only), so G's upper triangle is summed and mirrored.
     */
    public void sampleGrams(int from, int to, double[] out) {
        int count = to - from;
        int squared = n * n;
        if (out.length < count * squared) {
            throw new IllegalArgumentException("need " + count * squared + " values for " + count + " Gram matrices");
        }
        if (gramCapacity < count) {                                             // reused from call to call
            gramCapacity = count;
            ddBuffer = Nd4j.create(type, count, n, n);
            aaBuffer = Nd4j.create(type, count, n, n);
            ddValues = new double[count * squared];
            aaValues = new double[count * squared];
        }
        INDArray dd = count == gramCapacity ? ddBuffer : ddBuffer.get(interval(0, count), all(), all());
        INDArray aa = count == gramCapacity ? aaBuffer : aaBuffer.get(interval(0, count), all(), all());
        for (int l = 0; l < depth; l++) {
            INDArray d = deltas[l].get(interval(from, to), all(), all());
            products.selfProducts(d, dd);                                        // delta_i^T delta_j, j >= i
            read(dd, ddValues);
            if (l == 0) {
                for (int c = 0; c < count; c++) {
                    int at = c * squared;
                    for (int i = 0; i < n; i++) {
                        int row = at + i * n;
                        for (int j = i, e = i * n + i; j < n; j++, e++) {       // the first term: no += on zeros
                            out[row + j] = ddValues[row + j] * inputGram[e];
                        }
                    }
                }
            } else {
                INDArray a = state.outputs()[l - 1].get(interval(from, to), all(), all());
                products.selfProducts(a, aa);                                    // a_i^T a_j + 1 (column of ones)
                read(aa, aaValues);
                for (int c = 0; c < count; c++) {
                    int at = c * squared;
                    for (int i = 0; i < n; i++) {
                        for (int j = i, e = at + i * n + i; j < n; j++, e++) {
                            out[e] += ddValues[e] * aaValues[e];
                        }
                    }
                }
            }
        }
        for (int c = 0; c < count; c++) {                                       // G is symmetric: the lower triangle
            int at = c * squared;
            for (int i = 1; i < n; i++) {
                for (int j = 0; j < i; j++) {
                    out[at + i * n + j] = out[at + j * n + i];
                }
            }
        }
    }

    /**
     * out = H_f v for every run (Eq. 6), run r's direction at r p of {@code v} and its product at r p of {@code out}
     * (theta's layout), by the R-operator described above. Each sum of two products (R{z_l}, the weight block of
     * H v_l, R{delta_{l-1}}) is the second product accumulated onto the first's result ({@link
     * BatchedProducts#multiplyAdd}: a gemm with beta = 1), no scratch arrays or extra element-wise passes.
     */
    public void hessianTimes(double[] v, double[] out) {
        hessianTimes(v, out, null);
    }

    /** {@link #hessianTimes} for the runs r with {@code runs[r]} only (null: all); the others' products are unspecified. */
    public void hessianTimes(double[] v, double[] out, boolean[] runs) {
        rOperator(v, out, runs, false);
    }

    /**
     * out = H_p v = M_t v - H_f v for every run (Eq. 12) in one R-operator pass: M_t v's layer-l block (Eq. 7) is
     * (1/n) [a_l, 1]^T (diag(J v) delta_l), with (J v)_i = g_i . v = sum_l rowsum_i(([a_l, 1] V_l) o delta_l) (g_i the
     * per-sample gradient, whose layer-l block is [a_{l,i}, 1]^T delta_{l,i}), so H_p v's block is
     * -(1/n) ([a_l, 1]^T (R{delta_l} - diag(J v) delta_l) + R{a_l}^T delta_l): H_f v's products with R{delta_l}
     * replaced by that difference, no second pass. Vectors as in {@link #hessianTimes}; runs as there.
     */
    public void predictionHessianTimes(double[] v, double[] out, boolean[] runs) {
        rOperator(v, out, runs, true);
    }

    /** {@link #predictionHessianTimes} for every run. */
    public void predictionHessianTimes(double[] v, double[] out) {
        predictionHessianTimes(v, out, null);
    }

    /**
     * out = M_t v for every run (Eq. 7): (1/n) sum_i g_i (g_i . v), per layer (1/n) [a_l, 1]^T (diag(J v) delta_l)
     * with J v as in {@link #predictionHessianTimes}: two batched products per layer, no per-sample gradient formed.
     * Vectors and runs as in {@link #hessianTimes}.
     */
    public void secondMomentTimes(double[] v, double[] out, boolean[] runs) {
        write(v, direction);
        INDArray[] a = state.outputs();
        for (int l = 0; l < depth; l++) {
            products.multiply(l == 0 ? state.features() : a[l - 1], directionBlocks[l], rz[l], false, false, false, runs);
        }
        INDArray jv = null;
        for (int l = 0; l < depth; l++) {
            jv = addSampleDirections(jv, l, rz[l]);
        }
        for (int l = 0; l < depth; l++) {
            scaledDeltas(l, jv, rdelta[l]);
            products.multiply(l == 0 ? state.features() : a[l - 1], rdelta[l], productBlocks[l], true, false, false,
                    runs);
        }
        read(product, out);
        double scale = 1.0 / n;
        for (int i = 0; i < this.runs * p; i++) {
            out[i] *= scale;
        }
    }

    /** {@link #secondMomentTimes} for every run. */
    public void secondMomentTimes(double[] v, double[] out) {
        secondMomentTimes(v, out, null);
    }

    /**
     * J v, [R n, 1], summed layer by layer: adds layer l's rowsum(([a_l, 1] V_l) o delta_l) per run and sample to
     * {@code jv} (null: the first layer), given {@code inputTimesDirection} = [a_l, 1] V_l.
     */
    private INDArray addSampleDirections(INDArray jv, int l, INDArray inputTimesDirection) {
        INDArray perSample = inputTimesDirection.mul(deltas[l]).reshape((long) runs * n, architecture.fanOut(l))
                .sum(true, 1);
        return jv == null ? perSample : jv.addi(perSample);
    }

    /** into = diag(J v) delta_l, [R, n, out_l]. */
    private void scaledDeltas(int l, INDArray jv, INDArray into) {
        into.assign(deltas[l]);
        into.reshape((long) runs * n, architecture.fanOut(l)).muliColumnVector(jv);      // a view: in place
    }

    /** The R-operator pass of {@link #hessianTimes}, or with {@code prediction} that of {@link #predictionHessianTimes}. */
    private void rOperator(double[] v, double[] out, boolean[] only, boolean prediction) {
        write(v, direction);
        INDArray[] a = state.outputs();
        INDArray jv = null;
        if (prediction && combined == null) {
            combined = new INDArray[depth];
            for (int l = 0; l < depth; l++) {
                combined[l] = rdelta[l].ulike();
            }
        }
        for (int l = 0; l < depth; l++) {                                       // R-forward
            products.multiply(l == 0 ? state.features() : a[l - 1], directionBlocks[l], rz[l], false, false, false,
                    only);
            if (prediction) {
                jv = addSampleDirections(jv, l, rz[l]);                       // before R{a_l} W_l is added
            }
            if (l > 0) {
                rz[l - 1].mul(masks[l - 1], ra[l]);                               // R{a_l} = relu'(z_{l-1}) o R{z_{l-1}}
                products.multiply(ra[l], model.weightsWithoutBias(l), rz[l], false, true, true, only);
            }
        }
        read(rz[depth - 1], headIn);                                            // R{delta} = (diag(p) - p p^T) R{z}
        for (int row = 0; row < runs * n; row++) {
            int base = row * k;
            double dot = 0;
            for (int c = 0; c < k; c++) {
                dot += probabilities[base + c] * headIn[base + c];
            }
            for (int c = 0; c < k; c++) {
                headOut[base + c] = probabilities[base + c] * (headIn[base + c] - dot);
            }
        }
        write(headOut, rdelta[depth - 1]);
        for (int l = depth - 1; l >= 0; l--) {                                   // R-backward
            INDArray signal = rdelta[l];
            if (prediction) {                                                   // R{delta_l} - diag(J v) delta_l
                scaledDeltas(l, jv, combined[l]);
                signal = combined[l].rsubi(rdelta[l]);
            }
            products.multiply(l == 0 ? state.features() : a[l - 1], signal, productBlocks[l], true, false, false, only);
            if (l > 0) {
                products.multiply(ra[l], deltas[l], productWeights[l], true, false, true, only);
                products.multiply(deltas[l], directionWeights[l], rdelta[l - 1], false, true, false, only);
                products.multiply(rdelta[l], model.weightsWithoutBias(l), rdelta[l - 1], false, false, true, only);
                rdelta[l - 1].muli(masks[l - 1]);
            }
        }
        read(product, out);
        double scale = (prediction ? -1.0 : 1.0) / n;                          // H_p v = -(that) / n
        for (int i = 0; i < runs * p; i++) {
            out[i] *= scale;
        }
    }

    /** The values of a contiguous array (offset 0) into a float64 heap array. */
    private static void read(INDArray source, double[] into) {
        int length = (int) source.length();
        java.nio.ByteBuffer bytes = source.data().asNio().order(ByteOrder.nativeOrder());
        if (source.dataType() == DataType.DOUBLE) {
            bytes.asDoubleBuffer().get(0, into, 0, length);
        } else {
            java.nio.FloatBuffer floats = bytes.asFloatBuffer();
            for (int i = 0; i < length; i++) {
                into[i] = floats.get(i);
            }
        }
    }

    /** Float64 heap values into a contiguous array (offset 0), rounded to its type. */
    private static void write(double[] values, INDArray target) {
        int length = (int) target.length();
        java.nio.ByteBuffer bytes = target.data().asNio().order(ByteOrder.nativeOrder());
        if (target.dataType() == DataType.DOUBLE) {
            bytes.asDoubleBuffer().put(0, values, 0, length);
        } else {
            java.nio.FloatBuffer floats = bytes.asFloatBuffer();
            for (int i = 0; i < length; i++) {
                floats.put(i, (float) values[i]);
            }
        }
    }
}
