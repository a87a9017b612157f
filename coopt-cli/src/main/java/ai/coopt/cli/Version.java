package ai.coopt.cli;

import picocli.CommandLine;

/** The tool's version, from the jar manifest (Maven's project version). */
final class Version {
    private Version() {}

    static String get() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }

    /** Supplies {@code --version}. */
    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"coopt " + get()};
        }
    }
}
