package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.CurvatureOperators;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.curvature.Lanczos;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.curvature.Spectra;
import io.sgdscope.trainer.curvature.SpectrumProbe;
import io.sgdscope.trainer.curvature.SymmetricOperator;
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
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The matvec counts of a SpectrumSnapshot (v4) are the operator products its Lanczos runs took, counted at the operators. */
class SnapshotMatvecCountsTest {

    private static final MlpArchitecture NET = MlpArchitecture.of(50, 10, 30, 10);

    @Test
    void theSnapshotCarriesTheProductsEachOperatorWasAskedForColdAndWarmStarted() {
        Dataset data = GaussK.generate(GaussKSettings.GAUSS_10);
        TrainerSettings settings = TrainerSettings.builder().experimentId("matvecs").runs(1).iterations(1).workers(1)
                .curvature(CurvatureSettings.defaults().withTopK(5)).build();
        try (Mlp model = new Mlp(NET, Precision.FLOAT64)) {
            SplittableRandom random = new SplittableRandom(5L);
            model.initialize(Initialization.HE_NORMAL, random.split());
            INDArray theta0 = model.parameters().dup();
            MinibatchSampler sampler = new MinibatchSampler(data.samples(), 5, random.split());
            Sgd sgd = new Sgd(0.1);
            try (NetworkCurvature net = NetworkCurvature.classifier(NET, theta0, data.features(), data.labels(),
                    DataType.DOUBLE)) {
                // The snapshots' tolerance, tested after every step: counts that are not multiples of 10.
                SpectrumProbe probe = new SpectrumProbe(5, new Lanczos.Settings(300, 1e-5, 1), false, 3L);
                for (int snapshot = 0; snapshot < 3; snapshot++) {
                    Counting counting = new Counting(net);
                    Spectra spectra = probe.measure(counting);
                    SpectrumSnapshot record = RunCurvature.snapshot(settings, "matvecs-r00000", theta0, snapshot, net,
                            spectra, System.nanoTime());
                    String at = "snapshot " + snapshot;
                    assertEquals(counting.counts[0], record.getHessianMatvecs(), "H_f products of " + at);
                    assertEquals(counting.counts[1], record.getSecondMomentMatvecs(), "M_t products of " + at);
                    assertEquals(counting.counts[2], record.getPredictionHessianMatvecs(), "H_p products of " + at);
                    assertTrue(record.getHessianMatvecs() >= 5 && record.getHessianMatvecs() <= 300, at);
                    for (int t = 0; t < 2; t++) {                   // theta moves a little between snapshots
                        model.lossAndGradient(data, sampler.next());
                        sgd.step(model.parameters(), model.gradient());
                    }
                    net.freeze(model.parameters());
                }
            }
        }
    }

    /** The network's operators, each counting its products. */
    private static final class Counting implements CurvatureOperators {
        private final NetworkCurvature net;
        final int[] counts = new int[3];

        Counting(NetworkCurvature net) {
            this.net = net;
        }

        @Override
        public MlpArchitecture architecture() {
            return net.architecture();
        }

        @Override
        public int parameterCount() {
            return net.parameterCount();
        }

        @Override
        public SymmetricOperator hessian() {
            return counted(net.hessian(), 0);
        }

        @Override
        public SymmetricOperator secondMoment() {
            return counted(net.secondMoment(), 1);
        }

        @Override
        public SymmetricOperator predictionHessian() {
            return counted(net.predictionHessian(), 2);
        }

        private SymmetricOperator counted(SymmetricOperator operator, int slot) {
            return new SymmetricOperator() {
                @Override
                public int dimension() {
                    return operator.dimension();
                }

                @Override
                public DataType dataType() {
                    return operator.dataType();
                }

                @Override
                public void apply(INDArray v, INDArray out) {
                    counts[slot]++;
                    operator.apply(v, out);
                }
            };
        }
    }
}
