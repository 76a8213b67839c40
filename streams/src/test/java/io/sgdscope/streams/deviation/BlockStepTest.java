package io.sgdscope.streams.deviation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.frames.Frame;
import io.sgdscope.schemas.frames.FrameColumn;
import io.sgdscope.streams.metrics.MeterNames;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A frame's columns against a block whose runs were added in another order (starts cross a repartition topic). */
class BlockStepTest {

    private static final String EXPERIMENT = "gauss10";

    @Test
    void aBlockTakesTheOrderOfItsFramesSoThatEachRunIsFoundInItsColumnAndKeepsItsOwnState() {
        BlockDeviation block = BlockDeviation.fresh(EXPERIMENT);
        for (String run : List.of("run-9", "run-3", "run-5", "run-0", "run-1", "run-2", "run-4", "run-6", "run-7", "run-8")) {
            block.run(run, EXPERIMENT, 100).start(0, "sgd", true, 1150, true); // as the starts arrived; watched, to see Δ_t
        }
        List<String> steps = new ArrayList<>();
        RunChecks checks = new RunChecks(DeviationSettings.defaults(), (run, t, check, observed, bound, message) -> { },
                (run, name, tags, description, value) -> {
                    if (name.equals(MeterNames.RUN_LOSS_DELTA)) {
                        steps.add(run.runId + " Δ=" + value);
                    }
                });
        BlockStep step = new BlockStep(checks, 100);
        String[] runIds = new String[10];
        for (int i = 0; i < runIds.length; i++) {
            runIds[i] = "run-" + i;
        }
        assertFalse(block.inColumn(0, "run-0"));
        for (int t = 0; t <= 2; t++) {
            step.apply(block, frame(runIds, t), run -> { });
        }
        for (int i = 0; i < runIds.length; i++) {
            assertTrue(block.inColumn(i, runIds[i]), "run-" + i + " in column " + i);
            assertEquals(3, block.find(runIds[i]).iterations.count());
        }
        assertEquals(20, steps.size());
        double delta = (10 - 2 * 7 / 10.0) - (10 - 7 / 10.0); // Δ_1 of run-7 (Eq. 22), from its own column
        assertTrue(steps.contains("run-7 Δ=" + delta), steps.toString());
        assertEquals(10, block.size());
    }

    /** Iteration t of the runs: loss 10 − t·i/10 for run i, no moments. */
    private static Frame frame(String[] runIds, int t) {
        double[] loss = new double[runIds.length];
        double[] ones = new double[runIds.length];
        for (int i = 0; i < runIds.length; i++) {
            loss[i] = 10 - t * i / 10.0;
            ones[i] = 1;
        }
        return Frame.builder(EXPERIMENT, t, 0, runIds).column(FrameColumn.LOSS, loss).column(FrameColumn.MINIBATCH_LOSS, loss)
                .column(FrameColumn.STEP_SIZE, ones).column(FrameColumn.BATCH_SIZE, ones).column(FrameColumn.SG_NORM, ones)
                .build();
    }
}
