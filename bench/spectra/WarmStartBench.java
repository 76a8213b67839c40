import io.sgdscope.trainer.Nd4jThreads;
import io.sgdscope.trainer.curvature.EigenPairs;
import io.sgdscope.trainer.curvature.Lanczos;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.curvature.Spectra;
import io.sgdscope.trainer.curvature.SpectrumProbe;
import io.sgdscope.trainer.curvature.SymmetricOperator;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.DatasetDescription;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.Mlp;
import io.sgdscope.trainer.model.ModelPreset;
import io.sgdscope.trainer.model.Precision;
import io.sgdscope.trainer.optim.MinibatchSampler;
import io.sgdscope.trainer.optim.Sgd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The warm-start benchmark of the spectra (bench/spectra/README.md): how many operator products the
 * SpectrumProbe's warm-started Lanczos needs, at each snapshot after the first, to reach the Ritz residual
 * that a cold (random start) 60-step Lanczos reaches. MNIST-MLP preset (p = 134,794), n synthetic
 * MNIST-shaped samples, float32, top-15, ND4J on 2 threads; SGD between the snapshots.
 *
 * <p>At each snapshot time t: (1) for each operator (H_f, M_t, H_p) a cold Lanczos of exactly 60 steps;
 * its residual r is the largest relative Ritz residual of its top-15 pairs, |beta_m s_mj| / max |Ritz value|
 * (the measure of {@code Lanczos.Settings.tolerance}); (2) the warm-started Lanczos from the start vector
 * SpectrumProbe would use (its {@code state()} directions, {@code Lanczos.warmStart}), stopping at the first
 * step whose top-15 residuals are all <= r (checked after every step): its step count is the matvecs;
 * (3) the snapshot the trainer would publish, {@code SpectrumProbe.measure} with the trainer's settings
 * (300 steps, 1e-5, check every 10), which carries the warm starts to the next snapshot. Matvec counts do
 * not depend on the machine's load; the seconds do.
 *
 * <p>Arguments: n (10000), snapshot times (0,50,100,150), batch size (64), learning rate (0.05), warm-start
 * variants to compare (probe; others: see {@link #direction}), and (false) whether to run the trainer's settings
 * from a random start too at each snapshot after the first ({@code TRAINER-COLD} lines, to set against the warm
 * {@code PUBLISHED} counts at the same tolerance).
 */
public final class WarmStartBench {

    static final int K = 15;
    static final int COLD_STEPS = 60;
    static final Lanczos.Settings TRAINER = new Lanczos.Settings(300, 1e-5, 10);   // RunCurvature.SNAPSHOT_LANCZOS
    static final String[] OPERATORS = {"H_f", "M_t", "H_p"};
    /** Share of each sample's pixels drawn afresh instead of copied from its class prototype. */
    static final double REDRAWN = 0.5;
    /** Share of the labels drawn uniformly at random. */
    static final double RANDOM_LABELS = 0.1;

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int[] times = Arrays.stream((args.length > 1 ? args[1] : "0,50,100,150").split(","))
                .mapToInt(Integer::parseInt).toArray();
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        double eta = args.length > 3 ? Double.parseDouble(args[3]) : 0.05;
        String[] variants = (args.length > 4 ? args[4] : "probe").split(",");
        boolean trainerCold = args.length > 5 && Boolean.parseBoolean(args[5]);
        for (int i = 1; i < times.length; i++) {
            if (times[i] <= times[i - 1]) {
                throw new IllegalArgumentException("snapshot times must increase, got " + Arrays.toString(times));
            }
        }
        Nd4jThreads.configure(2);
        ModelPreset preset = ModelPreset.MNIST_MLP3;
        SplittableRandom random = new SplittableRandom(2026);
        Dataset data = mnistShaped(n, random.split());
        System.out.printf(Locale.ROOT, "preset %s, p = %d, n = %d, float32, top-%d, snapshots at %s, SGD batch %d eta %s, "
                + "variants %s%n", preset.id(), preset.parameterCount(), n, K, Arrays.toString(times), batch, eta,
                Arrays.toString(variants));

        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        List<String> rows = new ArrayList<>();
        try (Mlp model = new Mlp(preset.architecture(), Precision.FLOAT32)) {
            model.initialize(Initialization.HE_NORMAL, random.split());
            MinibatchSampler sampler = new MinibatchSampler(n, batch, random.split());
            Sgd sgd = new Sgd(eta);
            SpectrumProbe probe = new SpectrumProbe(K, TRAINER, false, 11L);
            Spectra previous = null;
            NetworkCurvature net = null;
            int t = 0;
            for (int snapshot = 0; snapshot < times.length; snapshot++) {
                for (; t < times[snapshot]; t++) {
                    model.lossAndGradient(data, sampler.next());
                    sgd.step(model.parameters(), model.gradient());
                }
                if (net == null) {
                    net = NetworkCurvature.classifier(preset.architecture(), model.parameters(), data.features(),
                            data.labels(), DataType.FLOAT);
                } else {
                    net.freeze(model.parameters());
                }
                System.out.printf(Locale.ROOT, "t = %d: loss %.5f%n", t, net.loss());
                SymmetricOperator[] operators = {net.hessian(), net.secondMoment(), net.predictionHessian()};
                if (previous != null) {
                    SpectrumProbe.State state = probe.state();
                    double[][] probeDirections = {state.hessianDirection(), state.secondMomentDirection(),
                            state.predictionDirection()};
                    EigenPairs[] before = {previous.hessian(), previous.secondMoment(), previous.predictionHessian()};
                    for (int o = 0; o < 3; o++) {
                        long start = System.nanoTime();
                        EigenPairs cold = Lanczos.topEigenpairs(operators[o], K, Lanczos.Settings.fixedSteps(COLD_STEPS),
                                null, 1_000L * t + o);
                        double coldSeconds = (System.nanoTime() - start) / 1e9;
                        double target = relativeResidual(cold);
                        StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %d | %s | %.3e | %.1f |",
                                t, OPERATORS[o], target, coldSeconds));
                        for (String variant : variants) {
                            INDArray direction = direction(variant, probeDirections[o], before[o]);
                            INDArray begin = variant.startsWith("noise-")
                                    ? withNoise(direction, Double.parseDouble(variant.substring(6)), 2_000L * t + o)
                                    : Lanczos.warmStart(direction, 2_000L * t + o);
                            start = System.nanoTime();
                            EigenPairs warm = Lanczos.topEigenpairs(operators[o], K, new Lanczos.Settings(300, target, 1),
                                    begin, 3_000L * t + o);
                            double warmSeconds = (System.nanoTime() - start) / 1e9;
                            boolean reached = relativeResidual(warm) <= target;
                            double ratio = reached ? warm.steps() / (double) COLD_STEPS : Double.NaN;
                            ratios.computeIfAbsent(variant, v -> new ArrayList<>()).add(ratio);
                            row.append(String.format(Locale.ROOT, " %s%d | %.2f | %.1f |", reached ? "" : ">",
                                    warm.steps(), ratio, warmSeconds));
                            System.out.printf(Locale.ROOT, "RESULT t=%d op=%s variant=%s cold60_residual=%.4e "
                                    + "warm_matvecs=%d reached=%s ratio=%.3f cold_s=%.2f warm_s=%.2f%n", t, OPERATORS[o],
                                    variant, target, warm.steps(), reached, ratio, coldSeconds, warmSeconds);
                        }
                        rows.add(row.toString());
                    }
                }
                if (previous != null && trainerCold) {
                    // The trainer's settings from a random start, against the warm PUBLISHED counts at the same tolerance.
                    for (int o = 0; o < 3; o++) {
                        EigenPairs cold = Lanczos.topEigenpairs(operators[o], K, TRAINER, null, 4_000L * t + o);
                        System.out.printf(Locale.ROOT, "TRAINER-COLD t=%d op=%s matvecs=%d (tolerance 1e-5, check every 10, "
                                + "random start)%n", t, OPERATORS[o], cold.steps());
                    }
                }
                if (snapshot == times.length - 1 && !trainerCold) {
                    break;                                          // no next snapshot to warm-start
                }
                long start = System.nanoTime();
                previous = probe.measure(net);
                System.out.printf(Locale.ROOT, "PUBLISHED t=%d hessianMatvecs=%d secondMomentMatvecs=%d "
                        + "predictionHessianMatvecs=%d (trainer settings: tolerance 1e-5, check every 10) %.1f s%n", t,
                        previous.hessian().steps(), previous.secondMoment().steps(), previous.predictionHessian().steps(),
                        (System.nanoTime() - start) / 1e9);
            }
            if (net != null) {
                net.close();
            }
        }
        StringBuilder header = new StringBuilder("| t | operator | cold 60-step residual | cold s |");
        StringBuilder rule = new StringBuilder("| --- | --- | --- | --- |");
        for (String variant : variants) {
            header.append(" warm matvecs (").append(variant).append(") | ratio | warm s |");
            rule.append(" --- | --- | --- |");
        }
        System.out.println(header);
        System.out.println(rule);
        rows.forEach(System.out::println);
        for (Map.Entry<String, List<Double>> entry : ratios.entrySet()) {
            double[] values = entry.getValue().stream().mapToDouble(Double::doubleValue)
                    .map(r -> Double.isNaN(r) ? Double.POSITIVE_INFINITY : r).sorted().toArray();
            double median = values.length % 2 == 1 ? values[values.length / 2]
                    : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
            System.out.printf(Locale.ROOT, "MEDIAN ratio warm/cold variant=%s %.3f over %d (goal <= 0.5), max %.3f%n",
                    entry.getKey(), median, values.length, values[values.length - 1]);
        }
    }

    /** max_j |beta_m s_mj| / max |Ritz value| over the top-k pairs: what Lanczos.Settings.tolerance bounds. */
    static double relativeResidual(EigenPairs pairs) {
        double scale = Math.max(Math.abs(pairs.values()[0]), Math.abs(pairs.smallest()));
        return Arrays.stream(pairs.residuals()).max().orElseThrow() / scale;
    }

    /**
     * The warm-start direction of one variant from the previous snapshot: 'probe' is SpectrumProbe's own (its state,
     * Lanczos.warmDirection); 'noise-A' the same with noise of norm A instead of Lanczos.warmStart's; 'top' the sum of the
     * top-k Ritz vectors without the smallest one; 'ramp' the top-k vectors weighted (j + 1) / k, the lower ones
     * (slowest to converge) most, plus the smallest.
     */
    static INDArray direction(String variant, double[] probeDirection, EigenPairs previous) {
        INDArray vectors = previous.vectors();
        if (variant.equals("probe") || variant.startsWith("noise-")) {
            return Nd4j.createFromArray(probeDirection).castTo(vectors.dataType());
        }
        if (variant.equals("top")) {
            return Lanczos.warmDirection(vectors, null);
        }
        if (variant.equals("ramp")) {
            INDArray sum = previous.smallestVector().dup();
            for (int j = 0; j < vectors.columns(); j++) {
                sum.addi(vectors.getColumn(j).reshape(sum.length()).mul((j + 1.0) / vectors.columns()));
            }
            return sum;
        }
        throw new IllegalArgumentException("unknown warm-start variant '" + variant + "' (probe, noise-<amplitude>, top, ramp)");
    }

    /** The unit direction plus Gaussian noise of norm ~{@code amplitude} (Lanczos.warmStart's is 0.05). */
    static INDArray withNoise(INDArray direction, double amplitude, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] noise = new double[(int) direction.length()];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = random.nextGaussian() * amplitude / Math.sqrt(noise.length);
        }
        INDArray start = direction.div(direction.norm2Number());
        return start.addi(Nd4j.createFromArray(noise).castTo(start.dataType()));
    }

    /**
     * n MNIST-shaped samples, float64 features in [0, 1] (784 pixels, ~20 % lit) and 10 classes: each class a fixed
     * random sparse prototype, each sample its class's prototype with {@link #REDRAWN} of its pixels redrawn, and
     * {@link #RANDOM_LABELS} of the labels drawn at random (as the paper's random-label fraction, Sec. A.1), so the
     * classes are learnable but the loss stays away from 0 after a few hundred SGD steps, as on digits.
     */
    static Dataset mnistShaped(int n, SplittableRandom random) {
        int d = 784;
        double[][] prototypes = new double[10][d];
        for (double[] prototype : prototypes) {
            for (int i = 0; i < d; i++) {
                prototype[i] = random.nextDouble() < 0.8 ? 0 : random.nextDouble();
            }
        }
        double[] x = new double[n * d];
        int[] labels = new int[n];
        for (int s = 0; s < n; s++) {
            int digit = random.nextInt(10);
            for (int i = 0; i < d; i++) {
                x[s * d + i] = random.nextDouble() < REDRAWN ? (random.nextDouble() < 0.8 ? 0 : random.nextDouble())
                        : prototypes[digit][i];
            }
            labels[s] = random.nextDouble() < RANDOM_LABELS ? random.nextInt(10) : digit;
        }
        INDArray features = Nd4j.create(x, new long[] {n, d}, 'c');
        return new Dataset(new DatasetDescription("mnist-shaped-synthetic", n, d, 10, 0.0, false, 2026L, null), features,
                labels);
    }
}
