package io.sgdscope.trainer.curvature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class SpectrumProbeTest {

    @Test
    void fullSpectraAreTheDenseEigenvaluesAndDavisKahanUsesTheExactFrobeniusNormOfHp() {
        NetworkCurvature net = CurvatureFixtures.gauss10(20, 9L).curvature();
        Spectra spectra = new SpectrumProbe(6, new Lanczos.Settings(400, 1e-10, 10), true, 3L).measure(net);
        double[] hessian = spectra.hessianFullSpectrum();
        double[] secondMoment = spectra.secondMomentFullSpectrum();
        assertEquals(net.parameterCount(), hessian.length);
        assertEquals(net.parameterCount(), secondMoment.length);
        for (int j = 1; j < hessian.length; j++) {
            assertTrue(hessian[j - 1] <= hessian[j] && secondMoment[j - 1] <= secondMoment[j], "ascending");
        }
        double largest = hessian[hessian.length - 1];
        for (int j = 0; j < 6; j++) {
            assertEquals(hessian[hessian.length - 1 - j], spectra.hessian().values()[j], 1e-8 * largest);
            assertEquals(secondMoment[secondMoment.length - 1 - j], spectra.secondMoment().values()[j],
                    1e-8 * secondMoment[secondMoment.length - 1]);
        }
        // M_t is PSD (Eq. 7): no eigenvalue below rounding.
        assertTrue(secondMoment[0] > -1e-10 * secondMoment[secondMoment.length - 1]);
        assertEquals(Math.max(Math.abs(hessian[0]), largest), spectra.hessianSpectralNorm(), 1e-8 * largest);

        // ||H_p||_F from the dense M - H, and Eq. 59 with it.
        INDArray hp = DenseCurvature.matrix(net.predictionHessian());
        double frobenius = hp.norm2Number().doubleValue();
        assertEquals(frobenius, spectra.predictionHessianFrobenius(), 1e-10 * frobenius);
        double[] hpValues = DenseCurvature.eigenvalues(hp);
        double hpExact = Math.max(Math.abs(hpValues[0]), Math.abs(hpValues[hpValues.length - 1]));
        double hpNorm = spectra.predictionHessianSpectralNorm();
        assertEquals(hpExact, hpNorm, 1e-6 * hpExact, "||H_p||_2 from the top and bottom Ritz values");
        double[] lambda = spectra.hessian().values();
        for (int s = 1; s <= 3; s++) {
            double expected = 2 * Math.min(Math.sqrt(s) * hpNorm, frobenius) / (lambda[s - 1] - lambda[s]);
            assertEquals(expected, spectra.davisKahanBounds()[s - 1], 1e-9 * expected, "s = " + s);
        }
    }

    @Test
    void withoutFullSpectraTheBoundUsesTheSpectralNormTermAlone() {
        NetworkCurvature net = CurvatureFixtures.gauss10(20, 9L).curvature();
        Spectra spectra = new SpectrumProbe(4, new Lanczos.Settings(400, 1e-10, 10), false, 3L).measure(net);
        assertNull(spectra.hessianFullSpectrum());
        assertNull(spectra.predictionHessianFrobenius());
        double[] lambda = spectra.hessian().values();
        double expected = 2 * Math.sqrt(2) * spectra.predictionHessianSpectralNorm() / (lambda[1] - lambda[2]);
        assertEquals(expected, spectra.davisKahanBounds()[1], 1e-12 * expected);
        assertEquals(3, spectra.davisKahanBounds().length);
    }
}
