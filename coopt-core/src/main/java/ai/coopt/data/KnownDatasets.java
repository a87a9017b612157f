package ai.coopt.data;

import ai.coopt.UserException;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The datasets known by name, {@code fashion-mnist} and {@code mnist}: where to find them on
 * this machine and how to download them. A directory holds a known dataset when it has the
 * four IDX files ({@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}), each raw or {@code .gz}.
 *
 * <p>Downloads come from the official source, or from the base URL in the system property
 * {@code coopt.mirror.NAME} when set, and are checked against the official SHA-256 sums.
 */
public final class KnownDatasets {
    /** The known dataset names. */
    public static final List<String> NAMES = List.of("fashion-mnist", "mnist");

    /** The base names of the four IDX files of a known dataset. */
    static final List<String> FILES = List.of(
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");

    private static final Map<String, Source> OFFICIAL = Map.of(
            "fashion-mnist", new Source("fashion-mnist",
                    URI.create("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"), Map.of(
                    "train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
                    "train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
                    "t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
                    "t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05")),
            "mnist", new Source("mnist",
                    URI.create("https://ossci-datasets.s3.amazonaws.com/mnist/"), Map.of(
                    "train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                    "train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                    "t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    "t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")));

    private KnownDatasets() {
    }

    /** Receives download progress; implementations must not write to stdout. */
    @FunctionalInterface
    public interface Progress {
        /**
         * Called with {@code done = 0} before the first byte of {@code file}, then as bytes
         * arrive, and last with {@code done == total} once the file is complete.
         *
         * @param total the file's size in bytes, or -1 while unknown
         */
        void update(String file, long done, long total);

        /** Progress that reports nothing. */
        static Progress silent() {
            return (file, done, total) -> { };
        }

        /** Progress written to stderr as whole lines: the start, each quarter, and the end of every file. */
        static Progress stderr() {
            PrintStream err = System.err;
            return new Progress() {
                private int quarter;

                @Override
                public void update(String file, long done, long total) {
                    if (done == 0 && total != 0) {
                        quarter = 0;
                        err.println("downloading " + file + (total > 0 ? " (" + size(total) + ")" : ""));
                    } else if (done == total) {
                        err.println("downloaded " + file + " (" + size(done) + ")");
                    } else if (total > 0 && done * 4 / total > quarter) {
                        quarter = (int) (done * 4 / total);
                        err.println("  " + file + ": " + quarter * 25 + "% of " + size(total));
                    }
                }
            };
        }

        private static String size(long bytes) {
            return bytes < 1_000_000
                    ? String.format(Locale.ROOT, "%.1f kB", bytes / 1e3)
                    : String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
        }
    }

    /** Where a dataset's files are downloaded from: a base URL and the SHA-256 of each {@code .gz} file. */
    record Source(String name, URI base, Map<String, String> sha256) {
    }

    /**
     * Finds a known dataset on this machine, looking in order in {@code $COOPT_DATA/NAME},
     * {@code /usr/share/datasets/NAME} (where the Debian package puts Fashion-MNIST) and
     * {@code ~/.cache/coopt/NAME}.
     *
     * @return the first of those directories holding the four files, or {@code null} when none does
     * @throws UserException when {@code name} is not a known dataset
     */
    public static Path locate(String name) {
        return locate(name, defaultRoots());
    }

    /** Like {@link #locate(String)}, looking in {@code root/NAME} for each of {@code roots} in order. */
    static Path locate(String name, List<Path> roots) {
        checkName(name);
        for (Path root : roots) {
            Path dir = root.resolve(name);
            if (isComplete(dir)) {
                return dir;
            }
        }
        return null;
    }

    /**
     * Locates a known dataset, or downloads it when it is not on this machine.
     * When {@code dir} already holds the four files it is returned as it is.
     *
     * @param dir      where to download to; {@code null} means {@code ~/.cache/coopt/NAME}
     * @param progress told about downloads; never writes to stdout
     * @return the directory holding the four files
     * @throws UserException when {@code name} is unknown, a download fails (with a line saying
     *                       how to get the data by hand) or a file does not match its checksum
     */
    public static Path fetch(String name, Path dir, Progress progress) {
        checkName(name);
        Path target = dir != null ? dir.toAbsolutePath().normalize() : cacheRoot().resolve(name);
        return fetch(source(name), target, defaultRoots(), progress);
    }

    /** Like {@link #fetch(String, Path, Progress)} from {@code source}, locating in {@code roots}. */
    static Path fetch(Source source, Path dir, List<Path> roots, Progress progress) {
        if (isComplete(dir)) {
            return dir;
        }
        Path found = locate(source.name(), roots);
        if (found != null) {
            return found;
        }
        Path created = firstMissing(dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UserException("cannot create " + dir + " to download " + source.name() + " into (" + reason(e) + ")");
        }
        boolean done = false;
        try {
            Download download = new Download();
            for (String base : FILES) {
                if (IdxReader.find(dir, base) != null) {
                    continue;
                }
                String file = base + ".gz";
                URI url = source.base().resolve(file);
                try {
                    download.fetch(url, dir.resolve(file), source.sha256().get(file), progress);
                } catch (IOException e) {
                    throw new UserException("cannot download " + source.name() + " from " + url + " ("
                            + reason(e) + "); " + howToGet(source.name()));
                }
            }
            done = true;
            return dir;
        } finally {
            if (!done && created != null) {
                removeEmptyDirectories(dir, created);
            }
        }
    }

    /** The outermost directory of {@code dir}'s path that does not exist yet, or null when {@code dir} exists. */
    private static Path firstMissing(Path dir) {
        Path missing = null;
        for (Path p = dir; p != null && !Files.exists(p); p = p.getParent()) {
            missing = p;
        }
        return missing;
    }

    /**
     * After a failed download, removes the directories this call created, from {@code dir} up to {@code top},
     * as long as they are empty: verified files already downloaded stay for the next try.
     */
    private static void removeEmptyDirectories(Path dir, Path top) {
        for (Path p = dir; p != null && p.startsWith(top); p = p.getParent()) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException notEmpty) {
                return;
            }
        }
    }

    /** The source of {@code name}: the official one, with its base URL replaced by {@code coopt.mirror.NAME} when set. */
    static Source source(String name) {
        Source official = OFFICIAL.get(name);
        String mirror = System.getProperty("coopt.mirror." + name);
        if (mirror == null || mirror.isBlank()) {
            return official;
        }
        try {
            URI base = URI.create(mirror.endsWith("/") ? mirror : mirror + "/");
            return new Source(name, base, official.sha256());
        } catch (IllegalArgumentException e) {
            throw new UserException("system property coopt.mirror." + name + " is not a valid URL: " + mirror);
        }
    }

    private static boolean isComplete(Path dir) {
        for (String base : FILES) {
            if (IdxReader.find(dir, base) == null) {
                return false;
            }
        }
        return true;
    }

    private static List<Path> defaultRoots() {
        List<Path> roots = new ArrayList<>();
        String env = System.getenv("COOPT_DATA");
        if (env != null && !env.isBlank()) {
            roots.add(Path.of(env));
        }
        roots.add(Path.of("/usr/share/datasets"));
        roots.add(cacheRoot());
        return roots;
    }

    private static Path cacheRoot() {
        return Path.of(System.getProperty("user.home"), ".cache", "coopt");
    }

    private static void checkName(String name) {
        if (!NAMES.contains(name)) {
            throw new UserException("unknown dataset '" + name + "'; known datasets: " + String.join(", ", NAMES));
        }
    }

    private static String reason(IOException e) {
        String message = e.getMessage();
        if (e instanceof ConnectException) {
            return "cannot connect" + (message == null ? "" : ": " + message);
        }
        if (e instanceof UnknownHostException) {
            return "unknown host " + message;
        }
        if (e.getClass() == IOException.class && message != null) {
            return message;
        }
        if (e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null) {
            return fs.getReason().toLowerCase(java.util.Locale.ROOT);
        }
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    private static String howToGet(String name) {
        String files = String.join(", ", FILES.stream().map(f -> f + ".gz").toList());
        String install = name.equals("fashion-mnist") ? "install it with 'apt-get install dataset-fashion-mnist', or " : "";
        return "to get the data by hand, " + install + "put " + files + " in $COOPT_DATA/" + name
                + " or ~/.cache/coopt/" + name;
    }
}
