package io.sgdscope.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sgdscope.schemas.IterationMetrics;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** INDArrays of any shape and precision give the statistics of their values as plain arrays. */
class Nd4jArraysInRunPublisherTest {

    @Test
    void indArraysGiveTheSameRecordsAsTheirValuesInPlainArrays() {
        int p = 12;
        SplittableRandom random = new SplittableRandom(3);
        double[][] thetas = new double[3][];
        double[][] gradients = new double[3][];
        for (int t = 0; t < 3; t++) {
            thetas[t] = random.doubles(p).toArray();
            gradients[t] = random.doubles(p, -1, 1).toArray();
        }
        InMemoryTelemetrySink plain = new InMemoryTelemetrySink();
        InMemoryTelemetrySink nd4j = new InMemoryTelemetrySink();
        RunDescription run = ClientTestRuns.run("nd", 0, p);
        try (RunPublisher a = SgdscopeClient.over(plain).startRun(run);
             RunPublisher b = SgdscopeClient.over(nd4j).startRun(run)) {
            for (int t = 0; t < 3; t++) {
                Step step = Step.of(1.0 / (t + 1), 2.0, 0.1, 5);
                a.iteration(step, thetas[t], gradients[t]);
                // theta as a 3 x 4 row-major matrix, the gradient as a [1, p] row vector
                INDArray theta = Nd4j.createFromArray(thetas[t]).reshape('c', new long[] {3, 4});
                INDArray gradient = Nd4j.createFromArray(gradients[t]).reshape(1, p);
                b.iteration(step, theta, gradient);
            }
        }
        assertEquals(values(plain.iterations()), values(nd4j.iterations()));
    }

    @Test
    void float32IndArraysAreWidenedExactly() {
        float[] theta = {0.5f, 0.25f, 0.125f, 1f};
        float[] gradient = {0.3f, -0.7f, 0.1f, 0.9f};
        GradientTracker tracker = new GradientTracker(4);
        GradientStatistics expected = tracker.next(theta, gradient);
        double[] values = Nd4jVectors.values(Nd4j.createFromArray(gradient).castTo(DataType.FLOAT).reshape(2, 2));
        double[] widened = {0.3f, -0.7f, 0.1f, 0.9f};
        assertEquals(java.util.Arrays.toString(widened), java.util.Arrays.toString(values));
        assertEquals(expected.sgNorm(), new GradientTracker(4).next(new double[4], values).sgNorm(), 0.0);
    }

    private static List<List<Object>> values(List<IterationMetrics> records) {
        return records.stream().map(r -> List.<Object>of(r.getIteration(), r.getLoss(), r.getSgNorm(),
                String.valueOf(r.getSgCosPrev()))).toList();
    }
}
