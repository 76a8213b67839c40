package io.sgdscope.trainer;

import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J's own parallelism (its OpenMP threads and OpenBLAS threads), set against ours (the
 * experiment's workers). These settings are process-wide.
 *
 * <p>Measured on 2 cores with Gauss-10 (matrices of at most 100 x 50): one op is far too small to
 * gain from several threads, so the fastest setting is one worker per core, each op on one thread
 * (see the module's measurements). Hence op threads = max(1, cores / workers).
 */
public final class Nd4jThreads {

    private Nd4jThreads() {}

    /** Sets ND4J's op and BLAS threads to max(1, cores / workers); returns the value set. */
    public static int configureFor(int workers) {
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, workers));
        configure(threads);
        return threads;
    }

    /** Sets ND4J's op threads (OpenMP) and BLAS threads to {@code threads}. */
    public static void configure(int threads) {
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
    }

    /**
     * ND4J's current op threads: the master threads that split an op. (ND4J 1.0.0-M2.1 keeps
     * {@code maxThreads}, the size of its thread pool, at its start value; only the master-thread
     * count takes effect at run time, and it is what decides here.)
     */
    public static int current() {
        return Nd4j.getEnvironment().maxMasterThreads();
    }
}
