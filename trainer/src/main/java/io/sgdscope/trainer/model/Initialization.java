package io.sgdscope.trainer.model;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/** How theta_0 is drawn ({@code RunStarted.model.initialization}). */
public enum Initialization {
    /** theta_0 ~ N(0, I): every weight and bias standard normal, as in Sec. A.1. */
    STANDARD_NORMAL("standard-normal"),
    /**
     * He et al.: weights of layer l ~ N(0, 2 / fan_in(l)), biases 0. The default: with N(0, I) the
     * initial loss of Gauss-10 is in the hundreds and raw-feature runs mostly stall (docs/pitfalls.md).
     */
    HE_NORMAL("he-normal");

    private final String id;

    Initialization(String id) {
        this.id = id;
    }

    /** The name used in settings and provenance. */
    public String id() {
        return id;
    }

    /** Draws theta_0 for this architecture, laid out as {@link MlpArchitecture} describes. */
    public double[] draw(MlpArchitecture architecture, SplittableRandom random) {
        double[] theta = new double[architecture.parameterCount()];
        for (int l = 0; l < architecture.depth(); l++) {
            int weightStart = architecture.weightOffset(l);
            int biasStart = architecture.biasOffset(l);
            double weightStd = this == STANDARD_NORMAL ? 1.0 : Math.sqrt(2.0 / architecture.fanIn(l));
            for (int i = weightStart; i < biasStart; i++) {
                theta[i] = weightStd * random.nextGaussian();
            }
            if (this == STANDARD_NORMAL) {
                for (int i = biasStart; i < biasStart + architecture.fanOut(l); i++) {
                    theta[i] = random.nextGaussian();
                }
            }
        }
        return theta;
    }

    /**
     * The scale sigma of an isotropic prior N(theta_0, sigma^2 I) matching this initialisation
     * (Assumption 2, Corollary 4): 1 for standard-normal; for he-normal, whose variance differs by
     * layer (2 / fan_in for weights, 0 for biases), the root mean square over all p parameters,
     * sqrt(sum_l 2 out_l / p) (Gauss-10: 0.295).
     */
    public double priorScale(MlpArchitecture architecture) {
        if (this == STANDARD_NORMAL) {
            return 1.0;
        }
        double variance = 0;
        for (int l = 0; l < architecture.depth(); l++) {
            variance += architecture.fanIn(l) * architecture.fanOut(l) * (2.0 / architecture.fanIn(l));
        }
        return Math.sqrt(variance / architecture.parameterCount());
    }

    /** The initialization named {@code id} ('standard-normal' or 'he-normal'). */
    public static Initialization fromId(String id) {
        for (Initialization init : values()) {
            if (init.id.equals(id)) {
                return init;
            }
        }
        throw new IllegalArgumentException("initialization must be one of "
                + Arrays.stream(values()).map(Initialization::id).collect(Collectors.joining(", "))
                + ", got '" + id + "'");
    }

    @Override
    public String toString() {
        return id;
    }
}
