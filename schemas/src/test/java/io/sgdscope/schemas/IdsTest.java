package io.sgdscope.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IdsTest {

    @Test
    void lettersDigitsDotsUnderscoresAndDashesUpToOneHundredAreValid() {
        assertTrue(Ids.isValid("gauss10-20261205-101500"));
        assertTrue(Ids.isValid("a.b_c-D9"));
        assertTrue(Ids.isValid("x".repeat(Ids.MAX_LENGTH)));
        assertTrue(Ids.isValid("..."));
        assertNull(Ids.problem("run id", "g10-r00001"));
    }

    @Test
    void tooLongEmptyOtherCharactersAndDotFoldersAreNot() {
        assertFalse(Ids.isValid("x".repeat(Ids.MAX_LENGTH + 1)));
        assertFalse(Ids.isValid(""));
        assertFalse(Ids.isValid(null));
        assertFalse(Ids.isValid("a/b"));
        assertFalse(Ids.isValid("é"));
        assertFalse(Ids.isValid("a b"));
        assertFalse(Ids.isValid("."));
        assertFalse(Ids.isValid(".."));
    }

    @Test
    void theProblemIsOneLineNamingTheKindOfId() {
        assertEquals("experiment id must not be '..' (it names a folder)", Ids.problem("experiment id", ".."));
        String tooLong = Ids.problem("run id", "y".repeat(70_000));
        assertEquals("run id is 70000 characters long, at most 100 allowed ('yyyyyyyyyyyyyyyyyyyy...')", tooLong);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ids.require("run id", "a\nb"));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
}
