package ai.coopt.data;

import ai.coopt.dataset.DatasetSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Reads the real Fashion-MNIST where the Debian package {@code dataset-fashion-mnist} is installed. */
class RealFashionMnistTest {
    private static final Path DEBIAN = Path.of("/usr/share/datasets/fashion-mnist");

    @BeforeAll
    static void requirePackage() {
        assumeTrue(Files.isDirectory(DEBIAN) && KnownDatasets.locate("fashion-mnist", List.of(DEBIAN.getParent())) != null,
                "Fashion-MNIST is not installed at " + DEBIAN);
    }

    private static void check(ImageSet set, int count, String source) {
        assertEquals(count, set.count());
        assertEquals(1, set.channels());
        assertEquals(28, set.height());
        assertEquals(28, set.width());
        assertEquals(source, set.source());
        for (int label : set.labels()) {
            assertTrue(label >= 0 && label <= 9, "label " + label);
        }
        assertEquals(10, set.numClasses());
    }

    @Test
    void loadsTrainAndTestWithLimits() {
        DatasetSpec spec = DatasetSpec.parse("idx:" + DEBIAN);
        check(spec.load("train", 1000), 1000, "idx:" + DEBIAN + ":train");
        check(spec.load("test", 500), 500, "idx:" + DEBIAN + ":test");
    }

    @Test
    void knownNameLoadsWithoutDownloading() {
        check(DatasetSpec.parse("fashion-mnist").load("test", 500), 500, "fashion-mnist:test");
    }

    @Test
    void installedFilesMatchTheOfficialChecksums() throws IOException, NoSuchAlgorithmException {
        for (Map.Entry<String, String> file : KnownDatasets.source("fashion-mnist").sha256().entrySet()) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (InputStream in = new DigestInputStream(Files.newInputStream(DEBIAN.resolve(file.getKey())), md)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
            assertEquals(file.getValue(), HexFormat.of().formatHex(md.digest()), file.getKey());
        }
    }
}
