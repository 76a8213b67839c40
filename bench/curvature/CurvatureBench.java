import io.sgdscope.trainer.Nd4jThreads;
import io.sgdscope.trainer.curvature.EigenPairs;
import io.sgdscope.trainer.curvature.Lanczos;
import io.sgdscope.trainer.curvature.NetworkCurvature;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.MlpArchitecture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * sgdscope's side of the curvature benchmark (bench/curvature/README.md): the MNIST-shaped ReLU net
 * [784, 128, 128, 128, 10] (p = 134,794, Table 3) on n = 10,000 samples in float32, ND4J limited to
 * 2 threads: one full-data loss + gradient, one H v, one M v, top-15 Lanczos of H_f and of M_t in
 * 60 steps. Each is warmed up once, then timed R times (the Lanczos runs once: 60 products already);
 * the median is printed.
 *
 * <p>Writes the inputs (X.npy, y.npy, theta.npy) into the folder given as first argument, so the
 * PyTorch peer times the very same problem, and prints the loss and top eigenvalues so the two can be
 * compared. Run it with bench/curvature/run.sh. Arguments: folder, repeats R (10), samples n (10,000).
 */
public final class CurvatureBench {

    static final MlpArchitecture NET = MlpArchitecture.of(784, 128, 128, 128, 10);

    public static void main(String[] args) throws Exception {
        Path folder = Path.of(args.length > 0 ? args[0] : "target/bench-curvature");
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;   // samples; fewer only for a smoke run
        Files.createDirectories(folder);
        Nd4jThreads.configure(2);

        SplittableRandom random = new SplittableRandom(2024);
        float[] x = new float[n * 784];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble() < 0.8 ? 0f : (float) random.nextDouble();   // sparse, pixel-like in [0, 1]
        }
        long[] y = new long[n];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = random.nextInt(10);
            y[i] = labels[i];
        }
        INDArray features = Nd4j.create(x, new long[] {n, 784}, 'c');
        INDArray theta = Nd4j.createFromArray(Initialization.HE_NORMAL.draw(NET, random.split())).castTo(DataType.FLOAT);
        Files.write(folder.resolve("X.npy"), Nd4j.toNpyByteArray(features));
        Files.write(folder.resolve("y.npy"), Nd4j.toNpyByteArray(Nd4j.createFromArray(y)));
        Files.write(folder.resolve("theta.npy"), Nd4j.toNpyByteArray(theta));

        long setup = System.nanoTime();
        NetworkCurvature net = NetworkCurvature.classifier(NET, theta, features, labels, DataType.FLOAT);
        System.out.printf(Locale.ROOT, "setup (buffers, prepared ops, first forward/backward): %.3f s%n",
                (System.nanoTime() - setup) / 1e9);
        int p = net.parameterCount();
        INDArray v = Nd4j.createFromArray(unit(p, random)).castTo(DataType.FLOAT);
        INDArray out = Nd4j.create(DataType.FLOAT, p);

        double lossGrad = time(repeats, () -> net.freeze(theta));
        double hv = time(repeats, () -> net.hessianTimes(v, out));
        double mv = time(repeats, () -> net.secondMomentTimes(v, out));
        EigenPairs[] last = new EigenPairs[2];
        double lanczosH = time(1,
                () -> last[0] = Lanczos.topEigenpairs(net.hessian(), 15, Lanczos.Settings.fixedSteps(60), null, 7L));
        double lanczosM = time(1,
                () -> last[1] = Lanczos.topEigenpairs(net.secondMoment(), 15, Lanczos.Settings.fixedSteps(60), null, 7L));

        System.out.printf(Locale.ROOT, "loss %.6f, ||grad|| %.6f%n", net.loss(), net.gradient().norm2Number().doubleValue());
        System.out.println("top-5 H: " + Arrays.toString(Arrays.copyOf(last[0].values(), 5)));
        System.out.println("top-5 M: " + Arrays.toString(Arrays.copyOf(last[1].values(), 5)));
        System.out.printf(Locale.ROOT, "RESULT sgdscope loss+gradient %.4f s%n", lossGrad);
        System.out.printf(Locale.ROOT, "RESULT sgdscope Hv %.4f s%n", hv);
        System.out.printf(Locale.ROOT, "RESULT sgdscope Mv %.4f s%n", mv);
        System.out.printf(Locale.ROOT, "RESULT sgdscope lanczos-H %.4f s%n", lanczosH);
        System.out.printf(Locale.ROOT, "RESULT sgdscope lanczos-M %.4f s%n", lanczosM);
        System.out.printf(Locale.ROOT, "heap used %.0f MiB of max %.0f MiB%n",
                (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1048576.0,
                Runtime.getRuntime().maxMemory() / 1048576.0);
        net.close();
    }

    /** Median wall time of {@code repeats} runs after one warm-up run, in seconds. */
    static double time(int repeats, Runnable work) {
        work.run();
        double[] seconds = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long start = System.nanoTime();
            work.run();
            seconds[r] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(seconds);
        return seconds[repeats / 2];
    }

    static double[] unit(int p, SplittableRandom random) {
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
