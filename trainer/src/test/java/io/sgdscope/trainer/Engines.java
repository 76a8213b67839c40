package io.sgdscope.trainer;

import io.sgdscope.client.TelemetrySink;

/** The experiment of the engine its settings name: the per-run engine ({@link PerRunEngine}) or the ensemble engine. */
final class Engines {

    private Engines() {}

    static Experiment experiment(TrainerSettings settings, TelemetrySink sink, ExperimentListener listener) {
        return settings.engine() == Engine.PER_RUN ? PerRunEngine.experiment(settings, sink, listener)
                : new Experiment(settings, sink, listener);
    }
}
