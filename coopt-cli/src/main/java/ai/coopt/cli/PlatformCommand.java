package ai.coopt.cli;

import picocli.CommandLine.Command;

/** {@code coopt platform …}: the open data platform as a networked service, and the commands that talk to one. */
@Command(name = "platform", mixinStandardHelpOptions = true,
        description = "The open data platform: serve a round to participants on other machines, invite them, watch it, "
                + "fuse and download the optimized dataset.",
        subcommands = {PlatformServe.class, PlatformInvite.class, PlatformStatus.class, PlatformDownload.class, PlatformFuse.class,
                PlatformNextRound.class, PlatformRevoke.class})
final class PlatformCommand {
    private PlatformCommand() {}
}
