package ai.coopt.train.methods;

import ai.coopt.Setting;
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
        assertEquals(new ByolConfig(256, 2, 0.99), byol.ssl());
        assertNull(byol.then());
        assertFalse(byol.usesTargets());
        assertEquals(new SimClrConfig(128, 0, 0.5), MethodSpec.of("simclr", null, null).ssl());
        assertEquals(new SimClrConfig(128, 0, 0.5), MethodSpec.of("rela", "simclr", 0.3).ssl());
        assertEquals("simclr", MethodSpec.of("rela", "simclr", 0.3).then());
        assertEquals(new MocoConfig(128, 0, 65536, 0.999, 0.2), MethodSpec.of("moco", null, null).ssl());
        assertEquals(new SimSiamConfig(0, 0, true), MethodSpec.of("simsiam", null, null).ssl());
        DinoConfig dino = (DinoConfig) MethodSpec.of("dino", null, null).ssl();
        assertEquals(0.996, dino.momentum());
        assertEquals(0.04, dino.warmupTeacherTemperature());
        assertEquals(0.07, dino.teacherTemperature());
        assertEquals(0.1, dino.studentTemperature());
        assertEquals(0.9, dino.centerMomentum());
        assertEquals(3.0, dino.clipGrad());
        assertEquals(8, dino.localCrops());
        assertEquals(new SwavConfig(128, 0, 3000, 0.1, 0.05, 3, 313, 6), MethodSpec.of("swav", null, null).ssl());
        assertEquals(new DclConfig(128, 0, 0.1), MethodSpec.of("dcl", null, null).ssl());
        for (String name : MethodSpec.SSL_NAMES) {
            assertEquals(name, MethodSpec.of(name, null, null).ssl().method());
            assertEquals(name, MethodSpec.of("rela", name, null).then());
        }
    }

    @Test
    void relaDefaultsToNoHandOff() {
        MethodSpec rela = MethodSpec.of("rela", null, null);
        assertEquals("none", rela.then());
        assertNull(rela.ssl());
        assertTrue(rela.usesTargets());
    }

    @Test
    void invalidSettingsAreOneLineUserErrors() {
        assertUserError(() -> MethodSpec.of("mocov3", null, null), "mocov3");
        assertUserError(() -> MethodSpec.of("byol", "simclr", null), Setting.THEN);
        assertUserError(() -> MethodSpec.of("rela", "rela", null), Setting.THEN);
        assertUserError(() -> MethodSpec.of("rela", "byol", 1.0), Setting.SWITCH_AT);
        assertUserError(() -> MethodSpec.of("rela", "byol", 0.0), Setting.SWITCH_AT);
        assertUserError(() -> MethodSpec.of("rela", "none", 0.5), Setting.SWITCH_AT);
        assertUserError(() -> MethodSpec.of("simclr", null, 0.5), Setting.SWITCH_AT);
        assertUserError(() -> new ByolConfig(256, 2, 1.0), "momentum");
        assertUserError(() -> new SimClrConfig(128, 0, 0), "temperature");
        assertUserError(() -> new SimClrConfig(0, 0, 0.5), "projection");
        assertUserError(() -> new ByolConfig(256, 0, 0.99), "multiplier");
        assertUserError(() -> new MocoConfig(128, 0, 0, 0.999, 0.2), Setting.MOCO_QUEUE);
        assertUserError(() -> new SwavConfig(128, 0, 3000, 0.1, 0, 3, 313, 6), Setting.SWAV_EPSILON);
        assertUserError(() -> new SwavConfig(128, 0, 3000, 0.1, 0.05, 0, 313, 6), Setting.SWAV_SINKHORN_ITERATIONS);
        assertUserError(() -> new DinoConfig(4096, 0, 256, 0.1, 0.07, 0.04, 1.0, 0.996, 0.9, 0.01, 3, 8),
                Setting.DINO_TEACHER_WARMUP);
        assertUserError(() -> new DinoConfig(4096, 0, 256, 0.1, 0.07, 0.04, 0.3, 0.996, 0.9, 0.01, -1, 8),
                Setting.DINO_CLIP_GRAD);
        assertUserError(() -> new DinoConfig(4096, 0, 256, 0.1, 0.07, 0.04, 0.3, 0.996, 0.9, 0.01, 3, 65),
                Setting.LOCAL_CROPS);
    }

    /** A one-line user error about {@code setting} (FlagsTest checks that the command line names it by its flag). */
    private static void assertUserError(Runnable r, Setting setting) {
        UserException e = assertThrows(UserException.class, r::run);
        assertTrue(e.settings().contains(setting), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    private static void assertUserError(Runnable r, String mentions) {
        UserException e = assertThrows(UserException.class, r::run);
        assertTrue(e.getMessage().contains(mentions), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
