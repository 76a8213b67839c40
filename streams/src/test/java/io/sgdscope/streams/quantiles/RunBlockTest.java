package io.sgdscope.streams.quantiles;

import static io.sgdscope.streams.Telemetry.iteration;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.schemas.RunStatus;
import io.sgdscope.schemas.frames.Frame;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class RunBlockTest {

    @Test
    void aBlockWithAPendingFinishReadsBackAsWritten() {
        RunBlock block = RunBlock.empty("exp");
        int a = block.positionOf("a");
        int b = block.positionOf("b");
        block.run(a).iterations().add(0);
        block.run(a).iterations().add(2);
        block.run(a).start(0, true);
        block.run(a).rolling("loss", 4).add(2, 0.5);
        block.deferFinish(a, new RunState.PendingFinish(RunStatus.COMPLETED, 5, 0.25));
        block.run(b).iterations().add(0);
        block.finish(b);

        byte[] bytes = RunBlock.serde().serializer().serialize("t", block);
        RunBlock read = RunBlock.serde().deserializer().deserialize("t", bytes);
        assertEquals("exp", read.experimentId());
        assertEquals(2, read.size());
        assertEquals(1, read.pendingFinishes());
        assertEquals(new RunState.PendingFinish(RunStatus.COMPLETED, 5, 0.25), read.run(read.find("a")).pendingFinish());
        assertTrue(read.run(read.find("a")).iterations().contains(2));
        assertFalse(read.run(read.find("a")).iterations().contains(1));
        assertTrue(read.run(read.find("a")).watched());
        assertEquals(0.5, read.run(read.find("a")).rollingWindows().get("loss").quantiles().at(0.5));
        assertTrue(read.run(read.find("b")).finished());
        assertNull(read.run(read.find("b")).pendingFinish());
        assertArrayEquals(bytes, RunBlock.serde().serializer().serialize("t", read), "written again, the same bytes");
    }

    @Test
    void aRunStateStoredAloneByAnEarlierVersionIsReadAsABlockOfThatRun() {
        RunState alone = RunState.fresh("exp");
        alone.iterations().add(0);
        alone.iterations().add(1);
        alone.start(3, false);
        RunBlock read = RunBlock.serde().deserializer().deserialize("t", RunState.toBytesAlone(alone));
        read.adoptKey("run-7");
        assertEquals(1, read.size());
        assertEquals("run-7", read.runId(0));
        assertEquals(0, read.find("run-7"));
        assertEquals(2, read.run(0).iterations().count());
        assertEquals(3, read.run(0).runIndex());
    }

    @Test
    void framesInTheBlocksOrderMapStraightAndOthersByRunId() {
        RunBlock block = RunBlock.empty("exp");
        Frame abc = Frame.of(List.of(iteration("exp", "a", 0, 1), iteration("exp", "b", 0, 1), iteration("exp", "c", 0, 1)));
        assertArrayEquals(new int[] {0, 1, 2}, block.positionsOf(abc), "new runs are added in column order");
        int[] again = block.positionsOf(abc);
        assertArrayEquals(new int[] {0, 1, 2}, again);
        assertSame(again, block.positionsOf(abc), "the same runs in the same order: no lookup");
        Frame ca = Frame.of(List.of(iteration("exp", "c", 1, 1), iteration("exp", "a", 1, 1)));
        assertArrayEquals(new int[] {2, 0}, block.positionsOf(ca));
        Frame withNew = Frame.of(List.of(iteration("exp", "a", 2, 1), iteration("exp", "d", 2, 1)));
        assertArrayEquals(new int[] {0, 3}, block.positionsOf(withNew));
        assertEquals(4, block.size());
    }

    @Test
    void framesInAnotherOrderThanTheBlocksMapByRunIdAndTheirLayoutIsReused() {
        RunBlock block = RunBlock.empty("exp");
        for (String runId : List.of("b", "c", "a")) { // starts arrived in another order than the columns
            block.positionOf(runId);
        }
        Frame abc = Frame.of(List.of(iteration("exp", "a", 0, 1), iteration("exp", "b", 0, 1), iteration("exp", "c", 0, 1)));
        int[] first = block.positionsOf(abc);
        assertArrayEquals(new int[] {block.find("a"), block.find("b"), block.find("c")}, first);
        Frame abcLater = Frame.of(List.of(iteration("exp", "a", 1, 1), iteration("exp", "b", 1, 1), iteration("exp", "c", 1, 1)));
        assertSame(first, block.positionsOf(abcLater), "the same layout as the last frame: no lookup");
        Frame acb = Frame.of(List.of(iteration("exp", "a", 2, 1), iteration("exp", "c", 2, 1), iteration("exp", "b", 2, 1)));
        assertArrayEquals(new int[] {block.find("a"), block.find("c"), block.find("b")}, block.positionsOf(acb),
                "a different layout of the same length is looked up, not taken from the last frame");
        Frame abd = Frame.of(List.of(iteration("exp", "a", 3, 1), iteration("exp", "b", 3, 1), iteration("exp", "d", 3, 1)));
        assertArrayEquals(new int[] {2, 0, 3}, block.positionsOf(abd));
        assertEquals(4, block.size());
    }

    @Test
    void anUnknownFormatIsAOneLineError() {
        SerializationException error = assertThrows(SerializationException.class,
                () -> RunBlock.serde().deserializer().deserialize("t", new byte[] {9, 0, 0}));
        assertEquals("run block in format 9, which this version of sgdscope does not read", error.getMessage());
    }
}
