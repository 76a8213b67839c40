package io.sgdscope.streams.deviation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.streams.internals.Codec;
import io.sgdscope.streams.runs.IterationSet;
import io.sgdscope.streams.runs.StepPairing;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

/**
 * A run's pairing of t with t + 1 (in fields while in order, in a StepPairing otherwise) against StepPairing and
 * IterationSet alone, the way the deviation app paired steps before blocks; and the stored forms.
 */
class RunDeviationTest {

    private static final int WINDOW = 100;
    private static final String EXPERIMENT = "gauss10";

    /** A step as the checks receive it. */
    private record Seen(int t, double lossDelta, MomentsAtTheta at) {}

    @Test
    void everyOrderOfIterationsGivesTheStepsStepPairingAloneGivesInTheSameOrder() {
        Serde<BlockDeviation> serde = BlockDeviation.serde(WINDOW);
        for (int seed = 0; seed < 400; seed++) {
            Random random = new Random(seed);
            List<Integer> order = arrivals(random);
            BlockDeviation block = BlockDeviation.fresh(EXPERIMENT);
            RunDeviation run = block.run("run-a", EXPERIMENT, WINDOW);
            IterationSet referenceSeen = new IterationSet();
            StepPairing<MomentsAtTheta> reference = new StepPairing<>();
            List<Seen> expected = new ArrayList<>();
            List<Seen> actual = new ArrayList<>();
            RunDeviation.StepReceiver receiver = (r, t, delta, at) -> actual.add(new Seen(t, delta, at));
            int end = random.nextInt(4) == 0 ? order.stream().mapToInt(Integer::intValue).max().orElse(0) + 1 : -1;
            int endAt = end < 0 ? -1 : random.nextInt(order.size() + 1);
            for (int i = 0; i <= order.size(); i++) {
                if (i == endAt) {
                    double loss = 0.5 + end * 0.01;
                    if (referenceSeen.add(end)) {
                        reference.add(end, loss, null, referenceSeen, step -> expected.add(seen(step)));
                    }
                    if (!run.iterations.contains(end)) {
                        run.addEnd(end, loss, receiver);
                    }
                }
                if (i == order.size()) {
                    break;
                }
                int t = order.get(i);
                double loss = 2.0 - 0.01 * t + 0.001 * random.nextGaussian();
                MomentsAtTheta at = random.nextInt(3) == 0
                        ? new MomentsAtTheta(0.1, 5, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN)
                        : new MomentsAtTheta(0.1, 5, 1 + t, 2 + t, 3, 0.5, 0.6, 0.7);
                if (referenceSeen.add(t)) {
                    reference.add(t, loss, at, referenceSeen, step -> expected.add(seen(step)));
                }
                if (!run.iterations.contains(t)) {
                    run.addIteration(t, loss, at.stepSize(), at.batchSize(), at.gradNormSq(), at.traceM(), at.hessianNorm(),
                            at.sigmaHalfMuNorm(), at.sigmaFrobenius(), at.sigmaSpectral(), receiver);
                }
                assertEquals(reference.pendingCount(), run.pendingCount(), "seed " + seed + ", after t = " + t + " of " + order);
                if (random.nextInt(5) == 0) { // stored and read back, as at a commit and a restart
                    block = serde.deserializer().deserialize("store", serde.serializer().serialize("store", block));
                    run = block.find("run-a");
                }
            }
            assertEquals(expected, actual, "seed " + seed + ": " + order + (end >= 0 ? ", end " + end + " at " + endAt : ""));
            assertEquals(referenceSeen.count(), run.iterations.count());
        }
    }

    @Test
    void aRunStoredInFormat1ByItsRunIdIsReadAsABlockOfThatRunAndGoesOn() {
        // Format 1, field by field as the deviation app wrote a run's state before blocks (key: the run id).
        Codec.Out out = new Codec.Out(256);
        out.writeByte(1);
        out.writeUTF(EXPERIMENT);
        out.writeByte(4 | 2);                 // started, watched
        out.writeInt(3);                      // run index
        out.writeByte(RunDeviation.OPTIMIZER_VANILLA);
        out.writeUTF("sgd");
        out.writeLong(1150);
        out.writeInt(8);                      // IterationSet: 0 .. 7 present
        out.writeInt(0);
        out.writeShort(1);                    // StepPairing: iteration 7 waits for 8
        out.writeInt(7);
        out.writeDouble(1.5);
        out.writeBoolean(true);
        new MomentsAtTheta(0.5, 4, 2.0, 3.0, 3.0, 0.8, 1.2, 0.6).writeTo(out);
        out.writeDouble(2.9);                 // initial loss, at t = 0
        out.writeInt(0);
        out.writeInt(WINDOW);
        out.writeInt(2);
        out.writeLong(0b101L);
        out.writeLong(0);
        out.writeInt(3);                      // position, filled, exceedances
        out.writeInt(3);
        out.writeInt(2);
        out.writeDouble(0.25);                // S_T, B_T, T
        out.writeDouble(0.5);
        out.writeLong(3);
        out.writeDouble(0.5);                 // running maxima, smallest m
        out.writeDouble(Math.sqrt(2.0));
        out.writeDouble(0.6);
        out.writeDouble(3.0);
        out.writeInt(4);

        BlockDeviation block = BlockDeviation.serde(WINDOW).deserializer().deserialize("store", out.toByteArray());
        block.adoptKey("run-old");
        assertEquals(1, block.size());
        RunDeviation run = block.find("run-old");
        assertEquals(EXPERIMENT, run.experimentId);
        assertTrue(run.started() && run.watched() && !run.finished());
        assertEquals(3, run.runIndex);
        assertEquals(1150, run.parameterCount);
        assertEquals(2, run.exceedances);
        assertEquals(0.25, run.martingale);
        assertEquals(4, run.minBatchSize);
        List<Seen> steps = new ArrayList<>();
        run.addIteration(8, 1.25, 0.5, 4, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                (r, t, delta, at) -> steps.add(new Seen(t, delta, at)));
        assertEquals(List.of(new Seen(7, 1.25 - 1.5, new MomentsAtTheta(0.5, 4, 2.0, 3.0, 3.0, 0.8, 1.2, 0.6))), steps,
                "the iteration that waited in the old state closes its step");
        assertEquals(1, run.pendingCount(), "iteration 8 waits for 9");
        assertNull(BlockDeviation.fresh(EXPERIMENT).find("run-old"));
    }

    /** Iterations 0 or t₀ .. n in order, with some swapped, repeated, or missing. */
    private static List<Integer> arrivals(Random random) {
        int first = random.nextInt(4) == 0 ? random.nextInt(5) : 0;
        int last = first + random.nextInt(30);
        List<Integer> order = new ArrayList<>();
        for (int t = first; t <= last; t++) {
            if (random.nextInt(12) != 0) {
                order.add(t);
            }
            if (random.nextInt(10) == 0 && !order.isEmpty()) {
                order.add(order.get(random.nextInt(order.size())));
            }
        }
        for (int swaps = random.nextInt(4); swaps > 0 && order.size() > 1; swaps--) {
            int i = random.nextInt(order.size() - 1);
            int j = Math.min(order.size() - 1, i + 1 + random.nextInt(3));
            Integer held = order.get(i);
            order.set(i, order.get(j));
            order.set(j, held);
        }
        return order;
    }

    private static Seen seen(StepPairing.Step<MomentsAtTheta> step) {
        return new Seen(step.iteration(), step.lossDelta(), step.atTheta().hasInterval() ? step.atTheta() : null);
    }
}
