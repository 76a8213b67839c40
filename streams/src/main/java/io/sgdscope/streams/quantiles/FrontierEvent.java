package io.sgdscope.streams.quantiles;

/**
 * What the frontier of an experiment is computed from, keyed by experiment: an updated band (how many
 * runs reached an iteration, and the band to show once it is the frontier), or a run's lifecycle.
 * Exactly one of the two is set.
 */
record FrontierEvent(CrossRunBand band, RunLifecycle lifecycle) {

    FrontierEvent {
        if ((band == null) == (lifecycle == null)) {
            throw new IllegalArgumentException("a frontier event is a band or a run's lifecycle");
        }
    }

    static FrontierEvent of(CrossRunBand band) {
        return new FrontierEvent(band, null);
    }

    static FrontierEvent of(RunLifecycle lifecycle) {
        return new FrontierEvent(null, lifecycle);
    }

    String experimentId() {
        return band != null ? band.experimentId() : lifecycle.experimentId();
    }
}
