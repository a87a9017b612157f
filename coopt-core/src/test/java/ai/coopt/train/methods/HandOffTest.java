package ai.coopt.train.methods;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HandOffTest {

    @Test
    void averagesFollowTheRule() {
        HandOff h = new HandOff(null);
        h.observe(0, 0.5);
        double fast = 0.999 * 1.0 + 0.001 * 0.5;
        assertEquals(fast, h.fast(), 1e-12);
        assertEquals(0.99 * 2.0 + 0.01 * fast, h.slow(), 1e-12);
        assertEquals(Math.exp(-(h.slow() - h.fast())), h.rho(), 1e-12);
    }

    @Test
    void adaptiveWaitsWhileTheLossFallsAndSwitchesOnceItIsFlat() {
        HandOff h = new HandOff(null);
        for (int t = 0; t < 4000; t++) {
            assertFalse(h.observe(0, 1.0 - 1e-4 * t), "switched at step " + t + " while the loss still fell");
        }
        int flat = 0;
        while (!h.observe(0, 0.6)) {
            flat++;
            assertTrue(flat < 3000, "no switch after 3000 flat steps");
        }
        assertTrue(h.rho() >= HandOff.RHO_THRESHOLD);
    }

    @Test
    void constantSwitchesAtTheFraction() {
        HandOff h = new HandOff(0.25);
        assertFalse(h.observe(0.2, 2.0));
        assertFalse(h.observe(0.2499, 0.0));
        assertTrue(h.observe(0.25, 2.0));
    }

    @Test
    void restoreSetsTheAverages() {
        HandOff h = new HandOff(null);
        h.restore(0.3, 0.4);
        assertEquals(0.3, h.fast());
        assertEquals(0.4, h.slow());
    }
}
