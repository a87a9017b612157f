package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.util.Secrets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The {@code coopt} command: dispatches to subcommands and turns user errors into one line and exit code 2. */
@Command(name = "coopt", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Collaborative unlabeled-data optimization: turn unlabeled images into optimized data and train on it.",
        subcommands = {DemoCommand.class, DataCommand.class, OptimizeCommand.class, InspectCommand.class,
                CollabCommand.class, RoundsCommand.class, PlatformCommand.class, ParticipantCommand.class, TrainCommand.class, PriorCommand.class,
                EvalCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main {
    /** Exit code for bad input: a bad path, a corrupt file, an impossible option. */
    public static final int USER_ERROR = 2;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    private static volatile List<String> commandLine = List.of("coopt");

    /** The command line being run, {@code coopt} first, as recorded in provenance: secrets masked. */
    static List<String> commandLine() {
        return commandLine;
    }

    /** Runs the command line and returns its exit code (used by tests). */
    public static int run(String... args) {
        List<String> line = new ArrayList<>();
        line.add("coopt");
        line.addAll(Arrays.asList(args));
        commandLine = Secrets.commandLine(line);
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> handle(e, commandLine.getErr()));
        cli.setParameterExceptionHandler((e, args1) -> {
            e.getCommandLine().getErr().println("coopt: " + e.getMessage()
                    + " (see '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return USER_ERROR;
        });
        cli.setErr(new PrintWriter(System.err, true));
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            System.err.println(outOfMemory());
            return USER_ERROR;
        }
    }

    /** The one line for a Java heap too small for the input. */
    private static String outOfMemory() {
        return "coopt: out of memory: the data does not fit in the " + (Runtime.getRuntime().maxMemory() >> 20)
                + " MiB Java heap; use fewer or smaller images (--limit), or give Java more with COOPT_JAVA_OPTS=-Xmx…";
    }

    private static int handle(Exception e, PrintWriter err) {
        UserException user = userCause(e);
        if (user != null) {
            err.println("coopt: " + Flags.message(user));
            return USER_ERROR;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) {
                err.println(outOfMemory());
                return USER_ERROR;
            }
        }
        err.println("coopt: internal error: " + e);
        if (System.getenv("COOPT_DEBUG") != null) {
            e.printStackTrace(err);
        } else {
            err.println("coopt: set COOPT_DEBUG=1 for the stack trace, and please report it");
        }
        return 1;
    }

    private static UserException userCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UserException u) {
                return u;
            }
        }
        return null;
    }
}
