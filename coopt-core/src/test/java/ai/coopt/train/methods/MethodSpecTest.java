package ai.coopt.train.methods;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MethodSpecTest {

    @Test
    void defaultsFollowThePapers() {
        MethodSpec byol = MethodSpec.of("byol", null, null);
        assertEquals(0.99, byol.byolMomentum());
        assertEquals(256, byol.projectionDim());
        assertEquals(2, byol.hiddenMultiplier());
        assertNull(byol.then());
        assertFalse(byol.usesTargets());
        assertEquals(128, MethodSpec.of("simclr", null, null).projectionDim());
        assertEquals(0.5, MethodSpec.of("simclr", null, null).simclrTemperature());
        assertEquals(128, MethodSpec.of("rela", "simclr", 0.3).projectionDim());
    }

    @Test
    void relaDefaultsToNoHandOff() {
        MethodSpec rela = MethodSpec.of("rela", null, null);
        assertEquals("none", rela.then());
        assertNull(rela.ssl());
        assertNull(rela.projectionDim());
        assertTrue(rela.usesTargets());
    }

    @Test
    void invalidSettingsAreOneLineUserErrors() {
        assertUserError(() -> MethodSpec.of("moco", null, null), "moco");
        assertUserError(() -> MethodSpec.of("byol", "simclr", null), "--then");
        assertUserError(() -> MethodSpec.of("rela", "dino", null), "--then");
        assertUserError(() -> MethodSpec.of("rela", "byol", 1.0), "--switch-at");
        assertUserError(() -> MethodSpec.of("rela", "byol", 0.0), "--switch-at");
        assertUserError(() -> MethodSpec.of("rela", "none", 0.5), "--switch-at");
        assertUserError(() -> MethodSpec.of("simclr", null, 0.5), "--switch-at");
        assertUserError(() -> new MethodSpec("byol", null, null, 1.0, 0.5, null, 2), "momentum");
        assertUserError(() -> new MethodSpec("simclr", null, null, 0.99, 0, null, 2), "temperature");
        assertUserError(() -> new MethodSpec("simclr", null, null, 0.99, 0.5, 0, 2), "projection");
        assertUserError(() -> new MethodSpec("byol", null, null, 0.99, 0.5, null, 0), "multiplier");
    }

    private static void assertUserError(Runnable r, String mentions) {
        UserException e = assertThrows(UserException.class, r::run);
        assertTrue(e.getMessage().contains(mentions), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
