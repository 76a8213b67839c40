package io.sgdscope.client;

/** Run descriptions for the client's tests. */
final class ClientTestRuns {

    private ClientTestRuns() {}

    /** Run {@code index} of {@code experiment}: a described net of p parameters, SGD lr 0.1 batch 5, 10 iterations. */
    static RunDescription run(String experiment, int index, int p) {
        return RunDescription.builder(experiment, index)
                .seed(100 + index)
                .plannedIterations(10)
                .data(DataDescription.of("synthetic", 100, 4, 3))
                .model(ModelDescription.described("test net", p, "relu", "softmax_cross_entropy", "he-normal"))
                .optimizer("sgd", 0.1, 5)
                .build();
    }
}
