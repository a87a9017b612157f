package ai.coopt.data;

import ai.coopt.UserException;
import ai.coopt.dataset.DatasetSpec;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KnownDatasetsTest {
    @TempDir
    Path dir;

    private HttpServer server;
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/data/", exchange -> {
            requests.incrementAndGet();
            byte[] body = served.get(exchange.getRequestURI().getPath().substring("/data/".length()));
            if (body == null) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/data/");
    }

    /** Serves four small gzipped IDX files and returns their SHA-256 sums. */
    private Map<String, String> serveDataset() {
        served.put("train-images-idx3-ubyte.gz", IdxReaderTest.gzip(IdxReaderTest.idxImages(8, 6, 5, IdxReaderTest.pixels(8, 6, 5))));
        served.put("train-labels-idx1-ubyte.gz", IdxReaderTest.gzip(IdxReaderTest.idxLabels(IdxReaderTest.labels(8))));
        served.put("t10k-images-idx3-ubyte.gz", IdxReaderTest.gzip(IdxReaderTest.idxImages(3, 6, 5, IdxReaderTest.pixels(3, 6, 5))));
        served.put("t10k-labels-idx1-ubyte.gz", IdxReaderTest.gzip(IdxReaderTest.idxLabels(IdxReaderTest.labels(3))));
        Map<String, String> sums = new HashMap<>();
        served.forEach((name, bytes) -> sums.put(name, sha256(bytes)));
        return sums;
    }

    private static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Set<String> names(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    /** A loopback port nothing listens on (it was free a moment ago). */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private Path noRoot() {
        return dir.resolve("no-root");
    }

    @Test
    void locateSearchesTheRootsInOrder() throws IOException {
        Path first = dir.resolve("env");
        Path second = dir.resolve("debian");
        Path third = dir.resolve("cache");
        IdxReaderTest.writeDataset(second.resolve("fashion-mnist"), 2, 2, true);
        IdxReaderTest.writeDataset(third.resolve("fashion-mnist"), 2, 2, false);
        List<Path> roots = List.of(first, second, third);
        assertEquals(second.resolve("fashion-mnist"), KnownDatasets.locate("fashion-mnist", roots));
        IdxReaderTest.writeDataset(first.resolve("fashion-mnist"), 2, 2, false);
        assertEquals(first.resolve("fashion-mnist"), KnownDatasets.locate("fashion-mnist", roots));
        assertNull(KnownDatasets.locate("mnist", roots));
    }

    @Test
    void locateNeedsAllFourFiles() throws IOException {
        Path data = dir.resolve("mnist");
        IdxReaderTest.writeDataset(data, 2, 2, true);
        Files.delete(data.resolve("t10k-images-idx3-ubyte.gz"));
        assertNull(KnownDatasets.locate("mnist", List.of(dir)));
        Files.write(data.resolve("t10k-images-idx3-ubyte"), IdxReaderTest.idxImages(1, 1, 1, new byte[1]));
        assertEquals(data, KnownDatasets.locate("mnist", List.of(dir)));
    }

    @Test
    void unknownNameIsAUserError() {
        UserException e = assertThrows(UserException.class, () -> KnownDatasets.locate("cifar10"));
        assertTrue(e.getMessage().contains("fashion-mnist, mnist"), e.getMessage());
        assertThrows(UserException.class, () -> KnownDatasets.fetch("imagenet", dir, KnownDatasets.Progress.silent()));
    }

    @Test
    void downloadVerifiesAndLandsTheFiles() throws IOException {
        Map<String, String> sums = serveDataset();
        Path target = dir.resolve("cache/fashion-mnist");
        Map<String, long[]> last = new HashMap<>();
        KnownDatasets.Progress progress = (file, done, total) -> last.put(file, new long[] {done, total});
        Path got = KnownDatasets.fetch(new KnownDatasets.Source("fashion-mnist", base(), sums), target,
                List.of(noRoot()), progress);
        assertEquals(target, got);
        assertEquals(served.keySet(), names(target));
        for (Map.Entry<String, byte[]> file : served.entrySet()) {
            assertArrayEquals(file.getValue(), Files.readAllBytes(target.resolve(file.getKey())));
            long[] end = last.get(file.getKey());
            assertEquals(file.getValue().length, end[0]);
            assertEquals(end[0], end[1]);
        }
        ImageSet train = DatasetSpec.parse("idx:" + target).load("train", 0);
        assertArrayEquals(IdxReaderTest.labels(8), train.labels());
        assertEquals(4, requests.get());

        KnownDatasets.fetch(new KnownDatasets.Source("fashion-mnist", base(), sums), target, List.of(noRoot()),
                KnownDatasets.Progress.silent());
        assertEquals(4, requests.get(), "a complete directory is not downloaded again");
    }

    @Test
    void checksumMismatchLeavesNothingBehind() throws IOException {
        Map<String, String> sums = serveDataset();
        sums.put("train-images-idx3-ubyte.gz", "0".repeat(64));
        Path target = dir.resolve("fm");
        UserException e = assertThrows(UserException.class, () -> KnownDatasets.fetch(
                new KnownDatasets.Source("fashion-mnist", base(), sums), target, List.of(noRoot()),
                KnownDatasets.Progress.silent()));
        assertTrue(e.getMessage().startsWith("checksum mismatch for " + base() + "train-images-idx3-ubyte.gz"),
                e.getMessage());
        assertFalse(Files.exists(target), "the directory made for the download is removed again");
    }

    @Test
    void notFoundSaysHowToGetTheData() throws IOException {
        Map<String, String> sums = serveDataset();
        served.remove("t10k-labels-idx1-ubyte.gz");
        Path target = dir.resolve("fm");
        UserException e = assertThrows(UserException.class, () -> KnownDatasets.fetch(
                new KnownDatasets.Source("fashion-mnist", base(), sums), target, List.of(noRoot()),
                KnownDatasets.Progress.silent()));
        assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().contains("$COOPT_DATA/fashion-mnist"), e.getMessage());
        assertTrue(names(target).stream().noneMatch(n -> n.contains("t10k-labels")), names(target).toString());
    }

    @Test
    void unreachableServerSaysHowToGetTheData() throws IOException {
        int port = closedPort();
        Map<String, String> sums = serveDataset();
        UserException e = assertThrows(UserException.class, () -> KnownDatasets.fetch(
                new KnownDatasets.Source("mnist", URI.create("http://127.0.0.1:" + port + "/"), sums),
                dir.resolve("mnist"), List.of(noRoot()), KnownDatasets.Progress.silent()));
        assertTrue(e.getMessage().startsWith("cannot download mnist from http://127.0.0.1:" + port), e.getMessage());
        assertTrue(e.getMessage().contains("$COOPT_DATA/mnist"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("mnist")));
    }

    @Test
    void aFailedDownloadLeavesNoDirectoryItCreated() throws IOException {
        int port = closedPort();
        Map<String, String> sums = serveDataset();
        Path fresh = dir.resolve("new");
        assertThrows(UserException.class, () -> KnownDatasets.fetch(
                new KnownDatasets.Source("mnist", URI.create("http://127.0.0.1:" + port + "/"), sums),
                fresh.resolve("mnist"), List.of(noRoot()), KnownDatasets.Progress.silent()));
        assertFalse(Files.exists(fresh), "the failed download left " + fresh);
    }

    @Test
    void locatedDataIsNotDownloaded() throws IOException {
        IdxReaderTest.writeDataset(dir.resolve("root/fashion-mnist"), 2, 2, true);
        Path got = KnownDatasets.fetch(new KnownDatasets.Source("fashion-mnist", base(), serveDataset()),
                dir.resolve("elsewhere"), List.of(dir.resolve("root")), KnownDatasets.Progress.silent());
        assertEquals(dir.resolve("root/fashion-mnist"), got);
        assertEquals(0, requests.get());

        Path complete = dir.resolve("root/fashion-mnist");
        assertEquals(complete, KnownDatasets.fetch("fashion-mnist", complete, KnownDatasets.Progress.silent()));
    }

    @Test
    void mirrorPropertyReplacesTheBaseUrl() {
        String key = "coopt.mirror.mnist";
        try {
            System.setProperty(key, "http://127.0.0.1:9/mirror");
            assertEquals(URI.create("http://127.0.0.1:9/mirror/"), KnownDatasets.source("mnist").base());
        } finally {
            System.clearProperty(key);
        }
        assertEquals("ossci-datasets.s3.amazonaws.com", KnownDatasets.source("mnist").base().getHost());
    }

    @Test
    void officialSourcesHaveAChecksumForEveryFile() {
        for (String name : KnownDatasets.NAMES) {
            Map<String, String> sums = KnownDatasets.source(name).sha256();
            List<String> expected = new ArrayList<>();
            KnownDatasets.FILES.forEach(f -> expected.add(f + ".gz"));
            assertEquals(Set.copyOf(expected), sums.keySet());
            sums.values().forEach(s -> assertTrue(s.matches("[0-9a-f]{64}"), s));
        }
    }
}
