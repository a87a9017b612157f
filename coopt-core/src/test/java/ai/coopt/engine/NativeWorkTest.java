package ai.coopt.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A process told to stop while a thread is inside a section exits only after the section has ended. */
class NativeWorkTest {
    @TempDir
    Path dir;

    /** Run in a fresh JVM: says when it is inside a section, stays there a while, then says it left. */
    public static final class Child {
        private Child() {}

        public static void main(String[] args) throws Exception {
            Path marks = Path.of(args[0]);
            try (NativeWork section = NativeWork.enter()) {
                Files.writeString(marks.resolve("entered"), "");
                Thread.sleep(3000);
                Files.writeString(marks.resolve("left"), "");
            }
            // a second section after the stop began: the thread waits here until the process ends
            try (NativeWork section = NativeWork.enter()) {
                Files.writeString(marks.resolve("second"), "");
            }
        }
    }

    @Test
    void aStopWaitsForTheSectionUnderWayAndAdmitsNoOther() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                Child.class.getName(), dir.toString())).redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile()).start();
        try {
            for (int i = 0; i < 300 && !Files.exists(dir.resolve("entered")); i++) {
                Thread.sleep(100);
            }
            assertTrue(Files.exists(dir.resolve("entered")), "the child never entered its section");
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child did not stop");
        } finally {
            p.destroyForcibly();
        }
        String log = Files.readString(dir.resolve("child.log"));
        assertTrue(Files.exists(dir.resolve("left")), "the process exited inside the section: " + log);
        assertFalse(Files.exists(dir.resolve("second")), "a section began after the stop: " + log);
        assertEquals(143, p.exitValue(), log);
        assertTrue(log.contains("stopping once the engine has finished its current step"), log);
    }
}
