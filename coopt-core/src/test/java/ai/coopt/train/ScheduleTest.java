package ai.coopt.train;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Schedules hit their documented values at the start, the end of the warm-up and the end. */
class ScheduleTest {

    @Test
    void cosineWithWarmupStartsAtZeroPeaksAtTheWarmupsEndAndEndsAtItsMinimum() {
        Schedule lr = Schedule.cosine(1e-3, 1e-5, 0.1);
        assertEquals(0, lr.at(0), 1e-15);
        assertEquals(5e-4, lr.at(0.05), 1e-15);
        assertEquals(1e-3, lr.at(0.1), 1e-15);
        assertEquals((1e-3 + 1e-5) / 2, lr.at(0.55), 1e-12, "half-way through the cosine");
        assertEquals(1e-5, lr.at(1), 1e-15);
        assertEquals(1e-5, lr.at(1.5), 1e-15, "clamped past the end");
    }

    @Test
    void cosineWithoutWarmupAndTheOtherShapes() {
        Schedule wd = Schedule.cosine(0.04, 0.4, 0);
        assertEquals(0.04, wd.at(0), 1e-15);
        assertEquals(0.4, wd.at(1), 1e-15);
        assertEquals(0.22, wd.at(0.5), 1e-12);
        Schedule t = Schedule.warmup(0.04, 0.07, 0.3);
        assertEquals(0.04, t.at(0), 1e-15);
        assertEquals(0.07, t.at(0.3), 1e-15);
        assertEquals(0.07, t.at(1), 1e-15);
        assertEquals(0.5, Schedule.constant(0.5).at(0.7), 0);
    }

    @Test
    void theConfigBuildsItsSchedulesAndRefusesNonsense() {
        TrainingConfig c = new TrainingConfig(1, 0, 8, 1e-3f, 0.04f, 0, 1, 0, 1, ai.coopt.data.Augmentation.Params.defaults(),
                Schedule.COSINE, 0.1, 0, 0.4, false);
        assertEquals(0, c.learningRateSchedule().at(0), 0);
        assertEquals(1e-3f, c.learningRateSchedule().at(0.1), 1e-9);
        assertEquals(0.4, c.weightDecaySchedule().at(1), 1e-7);
        assertThrows(UserException.class, () -> new TrainingConfig(1, 0, 8, 1e-3f, 0f, 0, 1, 0, 1,
                ai.coopt.data.Augmentation.Params.defaults(), "step", 0, 0, 0, true));
        assertThrows(UserException.class, () -> new TrainingConfig(1, 0, 8, 1e-3f, 0f, 0, 1, 0, 1,
                ai.coopt.data.Augmentation.Params.defaults(), Schedule.CONSTANT, 0.1, 0, 0, true));
        assertThrows(UserException.class, () -> new TrainingConfig(1, 0, 8, 1e-3f, 0f, 0, 1, 0, 1,
                ai.coopt.data.Augmentation.Params.defaults(), Schedule.COSINE, 0, 1e-2, 0, true));
        assertThrows(UserException.class, () -> new Schedule("cosine", 1, 0, 1.0, 0));
    }
}
