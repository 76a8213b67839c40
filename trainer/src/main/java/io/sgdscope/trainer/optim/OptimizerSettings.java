package io.sgdscope.trainer.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which update rule the runs use, with its settings; the base step size eta and the batch size m are
 * the experiment's. Validated on construction with one-line messages naming the setting.
 *
 * <ul>
 *   <li>{@value #SGD}: vanilla SGD with the constant step eta (Eq. 8, 23);</li>
 *   <li>{@value #ADAPTIVE}: the adaptive step of Theorem 3 (Eq. 35), eta_t = kappa ||mu||^2 / (L Tr M),
 *       from the exact moments where the trainer computes them, else {@link AdaptiveStep}'s estimator
 *       (moving averages of decay {@code momentDecay}); eta until L is known;</li>
 *   <li>{@value #DIAGONAL}: the diagonal preconditioner of Eq. 36 / 41, a_j = kappa mu_j^2 / (L M_jj),
 *       exact where the moments are computed, else estimated with Adam's averages (decays beta1, beta2);</li>
 *   <li>{@value #ADAM}: Adam (Sec. 5.5, Eq. 37-39) with step eta, decays beta1, beta2 and epsilon.</li>
 * </ul>
 *
 * @param name        {@value #SGD}, {@value #ADAPTIVE}, {@value #DIAGONAL} or {@value #ADAM}
 * @param kappa       where eta_t (or a_j) sits in Theorem 3's interval (1/2, 3/2) x ||mu||^2 / (L Tr M); 1 = the middle
 * @param momentDecay decay of the adaptive step's moving averages of g.g_{t-1} and ||g||^2, in [0, 1)
 * @param beta1       gamma_1 of Eq. 37 (Adam; the diagonal preconditioner's estimate of mu), in [0, 1)
 * @param beta2       gamma_2 of Eq. 38 (Adam; the diagonal preconditioner's estimate of M_jj), in [0, 1)
 * @param epsilon     Adam's epsilon in eta g / (sqrt(nu) + epsilon), > 0
 */
public record OptimizerSettings(String name, double kappa, double momentDecay, double beta1, double beta2, double epsilon) {

    public static final String SGD = "sgd";
    public static final String ADAPTIVE = "adaptive";
    public static final String DIAGONAL = "diagonal";
    public static final String ADAM = "adam";
    public static final List<String> NAMES = List.of(SGD, ADAPTIVE, DIAGONAL, ADAM);

    public static final double DEFAULT_KAPPA = 1.0;
    public static final double DEFAULT_MOMENT_DECAY = 0.9;
    public static final double DEFAULT_BETA1 = 0.9;
    public static final double DEFAULT_BETA2 = 0.999;
    public static final double DEFAULT_EPSILON = 1e-8;

    public OptimizerSettings {
        if (name == null || !NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown optimizer '" + name + "' (known: " + String.join(", ", NAMES) + ")");
        }
        if (!(kappa > 0.5 && kappa < 1.5)) {
            throw new IllegalArgumentException("kappa must be in (0.5, 1.5), inside Theorem 3's interval (Eq. 35, 36), got "
                    + kappa);
        }
        if (!(momentDecay >= 0 && momentDecay < 1)) {
            throw new IllegalArgumentException("moment-decay must be in [0, 1), got " + momentDecay);
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        }
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
            throw new IllegalArgumentException("adam-epsilon must be a finite number > 0, got " + epsilon);
        }
    }

    /** Vanilla SGD (the default). */
    public static OptimizerSettings sgd() {
        return named(SGD);
    }

    /** The optimizer {@code name} with the default settings. */
    public static OptimizerSettings named(String name) {
        return new OptimizerSettings(name, DEFAULT_KAPPA, DEFAULT_MOMENT_DECAY, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPSILON);
    }

    /** A new optimizer with its own state, for one run. */
    public Optimizer create(double learningRate, int batchSize) {
        return switch (name) {
            case ADAPTIVE -> new AdaptiveStep(learningRate, kappa, momentDecay, batchSize);
            case DIAGONAL -> new DiagonalPreconditioned(learningRate, kappa, beta1, beta2, batchSize);
            case ADAM -> new Adam(learningRate, beta1, beta2, epsilon);
            default -> new Sgd(learningRate);
        };
    }

    /**
     * The name in provenance ({@code RunStarted.optimizer.name}, {@link Optimizer#name()}): 'sgd' (which the
     * deviation app takes for vanilla SGD), 'adaptive-step', 'diagonal-preconditioned' or 'adam'.
     */
    public String provenanceName() {
        return switch (name) {
            case ADAPTIVE -> AdaptiveStep.NAME;
            case DIAGONAL -> DiagonalPreconditioned.NAME;
            case ADAM -> Adam.NAME;
            default -> Sgd.NAME;
        };
    }

    /** Whether the step needs L = max |lambda(H_f)| (and uses the exact moments): Theorem 3's two rules. */
    public boolean usesCurvature() {
        return name.equals(ADAPTIVE) || name.equals(DIAGONAL);
    }

    /** Whether the step uses mu_t and diag(M_t) themselves (Eq. 36) when the moments are computed. */
    public boolean usesDiagonals() {
        return name.equals(DIAGONAL);
    }

    /** These settings as name -> text, for {@code RunStarted.settings} (keys start with "optimizer."). */
    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        map.put("optimizer.name", name);
        map.put("optimizer.kappa", Double.toString(kappa));
        map.put("optimizer.momentDecay", Double.toString(momentDecay));
        map.put("optimizer.beta1", Double.toString(beta1));
        map.put("optimizer.beta2", Double.toString(beta2));
        map.put("optimizer.epsilon", Double.toString(epsilon));
        return map;
    }
}
