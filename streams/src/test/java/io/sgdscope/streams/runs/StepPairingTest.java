package io.sgdscope.streams.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepPairingTest {

    private final IterationSet seen = new IterationSet();
    private final StepPairing<String> pairing = new StepPairing<>();
    private final List<StepPairing.Step<String>> steps = new ArrayList<>();

    private void add(int t, double loss, String payload) {
        seen.add(t);
        pairing.add(t, loss, payload, seen, steps::add);
    }

    @Test
    void inOrderEachIterationMakesTheStepBeforeItAndKeepsOneEntry() {
        add(0, 3.0, "θ0");
        add(1, 2.5, "θ1");
        add(2, 2.25, "θ2");
        assertEquals(List.of(new StepPairing.Step<>(0, 3.0, "θ0", 2.5), new StepPairing.Step<>(1, 2.5, "θ1", 2.25)), steps);
        assertEquals(-0.25, steps.get(1).lossDelta(), "Δ_1 = f(θ_2) − f(θ_1), Eq. 22");
        assertEquals(1, pairing.pendingCount());
    }

    @Test
    void outOfOrderTheSameStepsCompleteWhenTheMissingIterationArrives() {
        add(2, 2.25, "θ2");
        add(0, 3.0, "θ0");
        assertEquals(0, steps.size());
        add(1, 2.5, "θ1");
        assertEquals(List.of(new StepPairing.Step<>(0, 3.0, "θ0", 2.5), new StepPairing.Step<>(1, 2.5, "θ1", 2.25)), steps);
        assertEquals(1, pairing.pendingCount(), "only 2 waits, for 3");
    }

    @Test
    void anEntryWithoutPayloadOnlyEndsAStep() {
        add(0, 3.0, "θ0");
        add(1, 2.0, null); // f(θ_T) after the last update
        add(2, 1.0, "θ2");
        assertEquals(List.of(new StepPairing.Step<>(0, 3.0, "θ0", 2.0)), steps, "no step starts at 1");
    }
}
