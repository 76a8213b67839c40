package io.sgdscope.trainer.curvature;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Computes the {@link Spectra} of successive snapshots of one run ({@link CurvatureOperators}: a
 * {@link NetworkCurvature}, or another model's operators), each Lanczos run warm-started
 * from the previous snapshot's Ritz vectors of the same operator (their sum plus a little noise;
 * see {@link Lanczos#warmStart}). Also tracks L = max |lambda(H_f)| between snapshots with a few
 * warm-started Lanczos steps ({@link #hessianSpectralNorm}).
 *
 * <p>Precision: that of the operators given (float64 in the trainer for Gauss-k);
 * dense matrices and full spectra always in float64. Stateful (the warm starts): one per run, one thread.
 */
public final class SpectrumProbe {

    private final int topK;
    private final Lanczos.Settings lanczos;
    private final boolean fullSpectrum;
    private final long seed;
    /** Where the next Lanczos run of each operator starts from ({@link Lanczos#warmDirection} of its last eigenpairs). */
    private INDArray hessianDirection;
    private INDArray secondMomentDirection;
    private INDArray predictionDirection;
    private INDArray hessianTop;
    private INDArray hessianBottom;
    private int calls;

    /**
     * @param topK         k, the eigenpairs per operator (Fig. 2-4: 15)
     * @param lanczos      steps and tolerance of each Lanczos run
     * @param fullSpectrum also form the dense H_f and M_t and publish all their eigenvalues (p <= {@link DenseCurvature#MAX_DENSE_PARAMETERS})
     * @param seed         seeds the random start vectors
     */
    public SpectrumProbe(int topK, Lanczos.Settings lanczos, boolean fullSpectrum, long seed) {
        if (topK < 1) {
            throw new IllegalArgumentException("top-k must be >= 1, got " + topK);
        }
        this.topK = topK;
        this.lanczos = lanczos;
        this.fullSpectrum = fullSpectrum;
        this.seed = seed;
    }

    public int topK() {
        return topK;
    }

    /** The spectra of H_f, M_t and H_p at the network's theta, and how their top subspaces relate. */
    public Spectra measure(CurvatureOperators net) {
        long start = System.nanoTime();
        int k = Math.min(topK, net.parameterCount());
        Starts starts = nextStarts();
        EigenPairs hessian = Lanczos.topEigenpairs(net.hessian(), k, lanczos, starts.hessian(), starts.hessianSeed());
        EigenPairs secondMoment = Lanczos.topEigenpairs(net.secondMoment(), k, lanczos, starts.secondMoment(),
                starts.secondMomentSeed());
        EigenPairs prediction = Lanczos.topEigenpairs(net.predictionHessian(), k, lanczos, starts.prediction(),
                starts.predictionSeed());
        return measured(net, hessian, secondMoment, prediction, start);
    }

    /**
     * Where {@link #measure}'s three Lanczos runs start: each operator's start vector (null: random from its seed)
     * and the seed of its random start and restarts.
     */
    public record Starts(INDArray hessian, long hessianSeed, INDArray secondMoment, long secondMomentSeed,
                         INDArray prediction, long predictionSeed) {}

    /** The starts of the next {@link #measure} (or {@link #measured}), for a Lanczos run elsewhere (a batched one). */
    public Starts nextStarts() {
        long base = seed * 1_000_003L + 31L * calls;
        return new Starts(Lanczos.warmStart(hessianDirection, base), base + 1,
                Lanczos.warmStart(secondMomentDirection, base + 2), base + 3,
                Lanczos.warmStart(predictionDirection, base + 4), base + 5);
    }

    /**
     * {@link #measure} with the three operators' eigenpairs computed elsewhere from {@link #nextStarts} (the
     * ensemble engine's batched Lanczos, {@code k = min(topK, p)} pairs each): counts the call, keeps the warm
     * starts, and relates the subspaces as {@link #measure} does. {@code start} (System.nanoTime) dates the time.
     */
    public Spectra measured(CurvatureOperators net, EigenPairs hessian, EigenPairs secondMoment, EigenPairs prediction,
                            long start) {
        calls++;
        hessianDirection = Lanczos.warmDirection(hessian.vectors(), hessian.smallestVector());
        secondMomentDirection = Lanczos.warmDirection(secondMoment.vectors(), secondMoment.smallestVector());
        predictionDirection = Lanczos.warmDirection(prediction.vectors(), prediction.smallestVector());
        hessianTop = hessian.vectors().getColumn(0).dup().reshape(net.parameterCount());
        hessianBottom = hessian.smallestVector();

        double[] cosines = PrincipalAngles.cosines(hessian.vectors(), secondMoment.vectors());      // Eq. 13
        double[][] loadings = LayerLoadings.of(net.architecture(), hessian.vectors());             // Sec. 4.4
        double[] hessianSpectrum = null;
        double[] secondMomentSpectrum = null;
        Double predictionFrobenius = null;
        if (fullSpectrum && net.parameterCount() <= DenseCurvature.MAX_DENSE_PARAMETERS) {
            INDArray denseHessian = DenseCurvature.matrix(net.hessian());
            INDArray denseSecondMoment = DenseCurvature.matrix(net.secondMoment());
            hessianSpectrum = DenseCurvature.eigenvalues(denseHessian);
            secondMomentSpectrum = DenseCurvature.eigenvalues(denseSecondMoment);
            predictionFrobenius = DenseCurvature.frobenius(denseSecondMoment.subi(denseHessian));   // ||M - H||_F, Eq. 12
        }
        double[] davisKahan = DavisKahan.bounds(hessian.values(), prediction.spectralNorm(), predictionFrobenius);
        return new Spectra(hessian, secondMoment, prediction, cosines, loadings, davisKahan, hessianSpectrum,
                secondMomentSpectrum, predictionFrobenius, (System.nanoTime() - start) / 1e9);
    }

    /**
     * L = max |lambda(H_f)| by {@code steps} Lanczos steps started from the last known top and
     * bottom eigenvectors of H_f (random the first time). The Ritz values lie inside the spectrum,
     * so this never overestimates L; with a warm start a few steps suffice while theta moves slowly.
     */
    public double hessianSpectralNorm(CurvatureOperators net, int steps) {
        INDArray start = hessianTop == null ? null : hessianTop.add(hessianBottom);
        int m = Math.min(steps, net.parameterCount());
        EigenPairs pairs = Lanczos.topEigenpairs(net.hessian(), 1, Lanczos.Settings.fixedSteps(m), start,
                seed * 7_919L + calls++);
        hessianTop = pairs.vectors().getColumn(0).dup().reshape(net.parameterCount());
        hessianBottom = pairs.smallestVector();
        return pairs.spectralNorm();
    }

    /**
     * What this probe carries from one snapshot to the next, copied out as float64 values for a checkpoint:
     * the warm-start directions of the three operators, the last top and bottom eigenvectors of H_f, and the
     * count of Lanczos runs (which seeds their random start vectors). A probe restored from it continues
     * exactly as this one would.
     *
     * @param calls              Lanczos runs so far
     * @param hessianDirection   warm start of the next H_f run, or null
     * @param secondMomentDirection warm start of the next M_t run, or null
     * @param predictionDirection   warm start of the next H_p run, or null
     * @param hessianTop         last top eigenvector of H_f, or null
     * @param hessianBottom      last bottom eigenvector of H_f, or null
     */
    public record State(int calls, double[] hessianDirection, double[] secondMomentDirection, double[] predictionDirection,
                        double[] hessianTop, double[] hessianBottom) {}

    /** A copy of the probe's state. */
    public State state() {
        return new State(calls, values(hessianDirection), values(secondMomentDirection), values(predictionDirection),
                values(hessianTop), values(hessianBottom));
    }

    /** Continues from a {@link #state()}; vectors in the given data type (the network's). */
    public void restore(State state, DataType type) {
        calls = state.calls();
        hessianDirection = array(state.hessianDirection(), type);
        secondMomentDirection = array(state.secondMomentDirection(), type);
        predictionDirection = array(state.predictionDirection(), type);
        hessianTop = array(state.hessianTop(), type);
        hessianBottom = array(state.hessianBottom(), type);
    }

    private static double[] values(INDArray vector) {
        return vector == null ? null : vector.toDoubleVector();
    }

    private static INDArray array(double[] values, DataType type) {
        return values == null ? null : Nd4j.createFromArray(values).castTo(type);
    }
}
