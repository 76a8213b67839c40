package io.sgdscope.client;

import io.sgdscope.schemas.IterationMetrics;

/**
 * A plain-Java training loop's use of the client, run by {@code ClientWithoutNd4jTest} in a JVM without ND4J on its
 * class path. Prints whether ND4J could be loaded, then each published ||g_t|| and cos(g_t, g_{t-1}).
 */
public final class PlainJavaMain {

    private PlainJavaMain() {}

    public static void main(String[] args) {
        boolean nd4j;
        try {
            Class.forName("org.nd4j.linalg.api.ndarray.INDArray");
            nd4j = true;
        } catch (ClassNotFoundException e) {
            nd4j = false;
        }
        System.out.println("nd4j on class path: " + nd4j);
        InMemoryTelemetrySink sink = new InMemoryTelemetrySink();
        try (RunPublisher run = SgdscopeClient.over(sink).startRun(ClientTestRuns.run("plain", 0, 2))) {
            run.iteration(Step.of(1, 1, 0.1, 5), new double[] {0, 0}, new double[] {3, 4});
            run.iteration(Step.of(1, 1, 0.1, 5), new float[] {1, 1}, new float[] {4, 3});
            run.finish(0.5);
        }
        for (IterationMetrics record : sink.iterations()) {
            System.out.println("t=" + record.getIteration() + " sgNorm=" + record.getSgNorm() + " cos=" + record.getSgCosPrev());
        }
    }
}
