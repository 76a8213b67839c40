package io.sgdscope.trainer.curvature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Lanczos on the Gauss-10 net against LAPACK's dense eigendecomposition of the same matrices. */
class LanczosTest {

    private static final int K = 15;
    private static NetworkCurvature net;
    private static double[] denseHessian;
    private static double[] denseSecondMoment;

    @BeforeAll
    static void setUp() {
        net = CurvatureFixtures.gauss10(40, 3L).curvature();
        denseHessian = DenseCurvature.eigenvalues(DenseCurvature.matrix(net.hessian()));
        denseSecondMoment = DenseCurvature.eigenvalues(DenseCurvature.matrix(net.secondMoment()));
    }

    @Test
    void topFifteenHessianEigenvaluesMatchTheDenseEigendecompositionToEightDigits() {
        EigenPairs pairs = Lanczos.topEigenpairs(net.hessian(), K, new Lanczos.Settings(600, 1e-10, 10), null, 1L);
        assertTopMatch(pairs, denseHessian);
        double mostNegative = denseHessian[0];
        double largest = denseHessian[denseHessian.length - 1];
        assertEquals(Math.max(Math.abs(mostNegative), Math.abs(largest)), pairs.spectralNorm(), 1e-8 * largest);
    }

    @Test
    void topFifteenSecondMomentEigenvaluesMatchTheDenseEigendecompositionToEightDigits() {
        EigenPairs pairs = Lanczos.topEigenpairs(net.secondMoment(), K, new Lanczos.Settings(600, 1e-10, 10), null, 2L);
        assertTopMatch(pairs, denseSecondMoment);
    }

    @Test
    void ritzVectorsAreOrthonormalAndTheirResidualsAreWhatLanczosReports() {
        EigenPairs pairs = Lanczos.topEigenpairs(net.hessian(), K, new Lanczos.Settings(600, 1e-10, 10), null, 3L);
        INDArray gram = pairs.vectors().transpose().mmul(pairs.vectors());
        assertTrue(gram.sub(Nd4j.eye(K).castTo(DataType.DOUBLE)).norm2Number().doubleValue() < 1e-10);
        INDArray hv = Nd4j.create(DataType.DOUBLE, net.parameterCount());
        for (int j = 0; j < 3; j++) {
            INDArray v = pairs.vectors().getColumn(j).dup();
            net.hessianTimes(v, hv);
            double residual = hv.sub(v.mul(pairs.values()[j])).norm2Number().doubleValue();
            assertEquals(residual, pairs.residuals()[j], 1e-9 * Math.abs(pairs.values()[0]));
        }
    }

    @Test
    void aWarmStartFromTheConvergedVectorsNeedsFewerSteps() {
        Lanczos.Settings settings = new Lanczos.Settings(600, 1e-8, 5);
        EigenPairs cold = Lanczos.topEigenpairs(net.hessian(), 5, settings, null, 4L);
        EigenPairs warm = Lanczos.topEigenpairs(net.hessian(), 5, settings,
                Lanczos.warmStart(cold.vectors(), null, 5L), 6L);
        assertTrue(warm.steps() < cold.steps(), "warm " + warm.steps() + " vs cold " + cold.steps());
        assertArrayEquals(cold.values(), warm.values(), 1e-6 * cold.values()[0]);
    }

    private static void assertTopMatch(EigenPairs pairs, double[] ascending) {
        double largest = ascending[ascending.length - 1];
        for (int j = 0; j < K; j++) {
            double expected = ascending[ascending.length - 1 - j];
            if (expected > 1e-6 * largest) {
                assertEquals(expected, pairs.values()[j], 1e-8 * Math.abs(expected), "eigenvalue " + j);
            }
        }
    }
}
