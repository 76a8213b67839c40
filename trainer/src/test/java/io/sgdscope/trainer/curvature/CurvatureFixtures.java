package io.sgdscope.trainer.curvature;

import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.Mlp;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.model.Precision;
import io.sgdscope.trainer.optim.MinibatchSampler;
import io.sgdscope.trainer.optim.Sgd;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Shared test inputs: the Gauss-10 net (Table 2) after a few SGD steps, in float64. */
final class CurvatureFixtures {

    static final MlpArchitecture GAUSS_10 = MlpArchitecture.of(50, 10, 30, 10);

    private CurvatureFixtures() {}

    /** Gauss-10 data and theta after {@code steps} SGD steps (batch 5, eta 0.1) from a he-normal start. */
    static Trained gauss10(int steps, long seed) {
        Dataset data = GaussK.generate(GaussKSettings.GAUSS_10);
        try (Mlp model = new Mlp(GAUSS_10, Precision.FLOAT64)) {
            SplittableRandom random = new SplittableRandom(seed);
            model.initialize(Initialization.HE_NORMAL, random.split());
            double[] theta0 = model.parametersAsDoubles();
            MinibatchSampler sampler = new MinibatchSampler(data.samples(), 5, random.split());
            Sgd sgd = new Sgd(0.1);
            for (int t = 0; t < steps; t++) {
                model.lossAndGradient(data, sampler.next());
                sgd.step(model.parameters(), model.gradient());
            }
            return new Trained(data, theta0, model.parametersAsDoubles());
        }
    }

    record Trained(Dataset data, double[] theta0, double[] theta) {
        NetworkCurvature curvature() {
            return NetworkCurvature.classifier(GAUSS_10, Nd4j.createFromArray(theta), data.features(), data.labels(),
                    DataType.DOUBLE);
        }

        double[][] features() {
            return data.features().toDoubleMatrix();
        }
    }

    static double relativeError(double[] actual, double[] expected) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < actual.length; i++) {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        return Math.sqrt(diff / norm);
    }

    static double[] randomUnit(int p, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] v = new double[p];
        double norm = 0;
        for (int j = 0; j < p; j++) {
            v[j] = random.nextGaussian();
            norm += v[j] * v[j];
        }
        for (int j = 0; j < p; j++) {
            v[j] /= Math.sqrt(norm);
        }
        return v;
    }
}
