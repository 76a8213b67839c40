import io.sgdscope.trainer.curvature.BatchedLanczos;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.BatchedCurvature;
import io.sgdscope.trainer.model.BatchedMlp;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.model.Precision;
import io.sgdscope.trainer.optim.MinibatchSampler;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Where the ensemble engine's probe time goes (bench/ensemble/RESULTS.md, "probes profile"): one block of R Gauss-10
 * runs (float64 or float32), 100 SGD steps from he-normal starts, then P probes exactly as EnsembleCurvature runs them
 * (freeze, the Gram matrices in chunks of 32 runs and GradientMoments.fromGram per run, 8 warm-started batched Lanczos
 * steps on the R-operator), each part timed on this thread's CPU clock; prints microseconds per run and probe.
 *
 * <p>Usage: {@code ProbeProfile [R=500] [probes=10] [float64|float32]}
 */
public final class ProbeProfile {

    public static void main(String[] args) {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int probes = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        Precision precision = Precision.fromId(args.length > 2 ? args[2] : "float64");
        MlpArchitecture arch = MlpArchitecture.of(50, 10, 30, 10);
        Dataset data = GaussK.generate(GaussKSettings.GAUSS_10);
        BatchedMlp model = new BatchedMlp(arch, precision, runs);
        MinibatchSampler[] samplers = new MinibatchSampler[runs];
        long[] seeds = new long[runs];
        for (int r = 0; r < runs; r++) {
            SplittableRandom random = new SplittableRandom(100 + r);
            seeds[r] = 100 + r;
            model.setParameters(r, Initialization.HE_NORMAL.draw(arch, random.split()));
            samplers[r] = new MinibatchSampler(data.samples(), 5, random.split());
        }
        int[] indices = new int[runs * 5];
        for (int t = 0; t < 100; t++) {
            for (int r = 0; r < runs; r++) {
                System.arraycopy(samplers[r].next(), 0, indices, r * 5, 5);
            }
            model.evaluate(data, new double[runs], null);
            model.lossAndGradient(data, indices, 5, new double[runs]);
            model.step(0.1);
        }
        ThreadMXBean clock = ManagementFactory.getThreadMXBean();
        BatchedCurvature curvature = new BatchedCurvature(model, data);
        int n = data.samples();
        int p = curvature.parameterCount();
        double[] warm = new double[runs * p];
        boolean[] active = new boolean[runs];
        java.util.Arrays.fill(active, true);
        long[] hvp = new long[1];
        long freeze = 0, grams = 0, moments = 0, lanczos = 0;
        double check = 0;
        for (int probe = -2; probe < probes; probe++) {                    // two warm-up probes for the JIT
            long t0 = clock.getCurrentThreadCpuTime();
            curvature.freeze();
            long t1 = clock.getCurrentThreadCpuTime();
            int chunk = 32;
            double[] g = new double[chunk * n * n];
            double[] one = new double[n * n];
            long gramTime = 0, momentTime = 0;
            for (int from = 0; from < runs; from += chunk) {
                int to = Math.min(runs, from + chunk);
                long a = clock.getCurrentThreadCpuTime();
                curvature.sampleGrams(from, to, g);
                long b = clock.getCurrentThreadCpuTime();
                for (int r = from; r < to; r++) {
                    System.arraycopy(g, (r - from) * n * n, one, 0, n * n);
                    check += GradientMoments.fromGram(one, n).sigmaSpectral();
                }
                gramTime += b - a;
                momentTime += clock.getCurrentThreadCpuTime() - b;
            }
            long t2 = clock.getCurrentThreadCpuTime();
            long[] lanczosSeeds = new long[runs];
            for (int r = 0; r < runs; r++) {
                lanczosSeeds[r] = seeds[r] * 7_919L + probe;
            }
            long hvpBefore = hvp[0];
            BatchedLanczos.Result pairs = BatchedLanczos.extremePairs((v, out) -> {
                long s = clock.getCurrentThreadCpuTime();
                curvature.hessianTimes(v, out);
                hvp[0] += clock.getCurrentThreadCpuTime() - s;
            }, runs, p, 8, warm, lanczosSeeds, active);
            for (int i = 0; i < runs * p; i++) {
                warm[i] = pairs.topVectors()[i] + pairs.bottomVectors()[i];
            }
            check += pairs.spectralNorm(0);
            long t3 = clock.getCurrentThreadCpuTime();
            if (probe >= 0) {
                freeze += t1 - t0;
                grams += gramTime;
                moments += momentTime;
                lanczos += t3 - t2;
            } else {
                hvp[0] = hvpBefore;
            }
        }
        double per = 1e3 * runs * probes;                                 // ns -> us per run and probe
        System.out.printf(Locale.ROOT, "PROFILE runs=%d probes=%d dtype=%s us_per_run_probe: freeze=%.1f grams=%.1f "
                        + "fromGram=%.1f hvp=%.1f lanczos_rest=%.1f total=%.1f (check %.6g)%n", runs, probes,
                precision.id(), freeze / per, grams / per, moments / per, hvp[0] / per, (lanczos - hvp[0]) / per,
                (freeze + grams + moments + lanczos) / per, check);
    }
}
