import io.sgdscope.trainer.curvature.BatchedLanczos;
import io.sgdscope.trainer.curvature.GradientMoments;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.DatasetDescription;
import io.sgdscope.trainer.model.BatchedCurvature;
import io.sgdscope.trainer.model.BatchedMlp;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.model.Precision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The PyTorch probes peer (torch_probes_peer.py --dump FILE) against sgdscope's ensemble probe on the same data,
 * parameters and Lanczos start vectors: each run's six moments of Eq. 4-7 from {@link BatchedCurvature#sampleGrams}
 * and {@link GradientMoments#fromGram}, and L after the same number of {@link BatchedLanczos} steps on
 * {@link BatchedCurvature#hessianTimes}, all float64. Prints both and the largest relative difference per run;
 * exits 1 above 1e-9.
 *
 * <p>Usage: {@code ProbesCrossCheck FILE} (bench/ensemble/run.sh MODE=crosscheck writes and checks one).
 */
public final class ProbesCrossCheck {

    public static void main(String[] args) throws Exception {
        List<String> lines = Files.readAllLines(Path.of(args[0]));
        int[] head = ints(lines.get(0));
        int n = head[0], d = head[1], k = head[2], runs = head[3], p = head[4], steps = head[5];
        double[] x = doubles(lines.get(1));
        int[] y = ints(lines.get(2));
        Dataset data = new Dataset(new DatasetDescription("gauss-k", n, d, k, 0.0, true, 0L, null),
                Nd4j.createFromArray(x).reshape(n, d), y);
        MlpArchitecture arch = MlpArchitecture.of(50, 10, 30, 10);
        BatchedMlp model = new BatchedMlp(arch, Precision.FLOAT64, runs);
        double[] start = new double[runs * p];
        double[][] peer = new double[runs][];
        for (int r = 0; r < runs; r++) {
            model.setParameters(r, doubles(lines.get(3 + 3 * r)));
            System.arraycopy(doubles(lines.get(4 + 3 * r)), 0, start, r * p, p);
            peer[r] = doubles(lines.get(5 + 3 * r));
        }
        BatchedCurvature curvature = new BatchedCurvature(model, data);
        curvature.freeze();
        double[] grams = new double[runs * n * n];
        curvature.sampleGrams(0, runs, grams);
        boolean[] active = new boolean[runs];
        java.util.Arrays.fill(active, true);
        BatchedLanczos.Result pairs = BatchedLanczos.extremePairs(curvature::hessianTimes, runs, p, steps, start,
                new long[runs], active);
        double worst = 0;
        String[] names = {"||mu||^2", "Tr M", "Tr Sigma", "||Sigma||_F", "||Sigma||_2", "||Sigma^1/2 mu||", "L"};
        for (int r = 0; r < runs; r++) {
            GradientMoments m = GradientMoments.fromGram(java.util.Arrays.copyOfRange(grams, r * n * n, (r + 1) * n * n), n);
            double[] ours = {m.gradNormSq(), m.traceM(), m.traceSigma(), m.sigmaFrobenius(), m.sigmaSpectral(),
                    m.sigmaHalfMuNorm(), pairs.spectralNorm(r)};
            for (int i = 0; i < ours.length; i++) {
                double rel = Math.abs(ours[i] - peer[r][i]) / Math.max(Math.abs(peer[r][i]), 1e-300);
                worst = Math.max(worst, rel);
                System.out.printf(Locale.ROOT, "run %d %-17s sgdscope %.15g  peer %.15g  relative difference %.1e%n", r,
                        names[i], ours[i], peer[r][i], rel);
            }
        }
        System.out.printf(Locale.ROOT, "CROSSCHECK runs=%d worst_relative=%.2e %s%n", runs, worst, worst <= 1e-9 ? "passed" : "FAILED");
        System.exit(worst <= 1e-9 ? 0 : 1);
    }

    private static double[] doubles(String line) {
        return java.util.Arrays.stream(line.trim().split(" ")).mapToDouble(Double::parseDouble).toArray();
    }

    private static int[] ints(String line) {
        return java.util.Arrays.stream(line.trim().split(" ")).mapToInt(Integer::parseInt).toArray();
    }
}
