package ai.coopt.platform;

import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.server.PlatformConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * After a round to fusion, nothing under the platform directory is readable by another user, whatever the umask
 * (this JVM's is typically 022, under which every file was 0644 and every directory 0755 before).
 */
class PrivateFilesTest {
    private static final int N = 300;

    @Test
    void thePlatformDirectoryIs0700AndItsFiles0600(@TempDir Path tmp) throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "no POSIX permissions here");
        Path dir = tmp.resolve("platform");
        PlatformHome.create(dir);
        String db = "sqlite:" + dir.resolve("platform.db");
        PlatformHome.recordDatabase(dir, db);
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", N);
        PlatformConfig c = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", N, null, N,
                images.fingerprint(), 0, 2, null, 20, 1, 60, "ridge", 0, Instant.now().toString(), "test", List.of("t"));
        try (TestPlatform running = TestPlatform.startIn(db, dir, c, images, null, System::currentTimeMillis)) {
            NetworkedRoundTest.runParticipant(running.url(), running.store(), tmp.resolve("alice.key"), "alice",
                    "zoo:convnet-s-byol-300s", 0);
            NetworkedRoundTest.awaitFusion(running);
            List<String> open = new ArrayList<>();
            int files = 0;
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.toList()) {
                    String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
                    boolean directory = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                    files += directory ? 0 : 1;
                    if (!mode.equals(directory ? "rwx------" : "rw-------")) {
                        open.add(dir.relativize(p) + " " + mode);
                    }
                }
            }
            assertEquals(List.of(), open, "group or others may read these");
            for (String expected : List.of("platform.db", "platform.json", "shards", "uploads", "fused", "audits")) {
                assertTrue(Files.exists(dir.resolve(expected)), expected + " was checked");
            }
            assertTrue(files > 10, files + " files");
        }
    }
}
