package io.sgdscope.streams.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgdscope.streams.internals.Codec;
import org.junit.jupiter.api.Test;

class IterationSetTest {

    @Test
    void eachIterationIsNewOnceWhateverTheOrder() {
        IterationSet set = new IterationSet();
        assertTrue(set.add(0));
        assertTrue(set.add(3));
        assertTrue(set.add(1));
        assertFalse(set.add(3), "3 overtook 1 and 2 and came again");
        assertFalse(set.add(0));
        assertTrue(set.add(2));
        assertFalse(set.add(2));
        assertEquals(3, set.max());
        assertEquals(4, set.count());
        assertTrue(set.contains(2));
        assertFalse(set.contains(4));
    }

    @Test
    void aSparseSeriesKeepsOneEntryPerIterationAndSurvivesBytes() {
        IterationSet set = new IterationSet();
        for (int t = 0; t <= 400; t += 10) {
            assertTrue(set.add(t));
        }
        Codec.Out out = new Codec.Out(16);
        set.writeTo(out);
        byte[] bytes = out.toByteArray();
        IterationSet read = IterationSet.readFrom(new Codec.In(bytes));
        assertFalse(read.add(200), "read back: 200 is there");
        assertTrue(read.add(205));
        assertEquals(400, read.max());
        assertTrue(bytes.length < 4 * 50, "one int per snapshot, not one per iteration: " + bytes.length);
    }

    @Test
    void beyondItsBoundTheOldestGapIsGivenUp() {
        IterationSet set = new IterationSet();
        set.add(0);
        for (int t = 2; t < 2 + IterationSet.MAX_ABOVE + 1; t++) {
            set.add(t); // iteration 1 never comes
        }
        assertFalse(set.add(1), "the gap at 1 was given up: a late 1 counts as seen");
        assertTrue(set.count() >= IterationSet.MAX_ABOVE);
    }
}
