package io.sgdscope.client;

/**
 * The README's "Watch your own training (JVM)" example, verbatim between the markers ({@code ClientPublishingIT}
 * runs it against a real broker and checks that the README still shows exactly these lines).
 */
final class ReadmeExample {

    private ReadmeExample() {}

    static void run(String bootstrapServers, LeastSquaresModel model) {
        // README begin
        try (SgdscopeClient client = SgdscopeClient.connect(KafkaClientSettings.of(bootstrapServers))) {
            RunDescription run = RunDescription.builder("least-squares", 0)
                    .seed(7).plannedIterations(100)
                    .data(DataDescription.of("synthetic", 200, 20, 1))
                    .model(ModelDescription.fullyConnected("identity", "squared_error", "zeros", 20, 1))
                    .optimizer("sgd", 0.05, 10)
                    .build();
            try (RunPublisher publisher = client.startRun(run)) {
                for (int t = 0; t < 100; t++) {
                    double[] theta = model.parameters();                    // theta_t, before the update
                    double minibatchLoss = model.lossAndGradient(model.nextBatch(10));
                    double[] gradient = model.gradient();                   // g_t
                    publisher.iteration(Step.of(model.loss(), minibatchLoss, 0.05, 10), theta, gradient);
                    model.step(0.05);                                       // theta_{t+1} = theta_t - 0.05 g_t
                }
                publisher.finish(model.loss());                             // f(theta_T)
            }
        }
        // README end
    }
}
