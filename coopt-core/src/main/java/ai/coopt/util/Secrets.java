package ai.coopt.util;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The one redaction of secrets from whatever is recorded: command lines (provenance, manifests, the platform's
 * database), configuration rows and log lines. A password inside a URL ({@code password=…} parameters and
 * {@code user:pass@host} user info) and the value of an option whose name says secret, password, token or invite
 * become {@value #MASK}; everything else is kept as it was given.
 */
public final class Secrets {
    /** What a secret is replaced by. */
    public static final String MASK = "***";

    /** {@code password=…} (also {@code passwd}, {@code pwd}, {@code secret}, {@code token}) as a URL parameter. */
    private static final Pattern PARAMETER = Pattern.compile(
            "(?i)([?&;]|\\b)((?:[a-z_]*password|passwd|pwd|[a-z_]*secret|[a-z_]*token)=)[^&#;\\s'\"]*");
    /** The password of {@code scheme://user:password@host}. */
    private static final Pattern USER_INFO = Pattern.compile("(?i)([a-z][a-z0-9+.-]*://[^/:@\\s]*:)[^@/\\s]*(@)");
    /** Option names whose value is a secret (a {@code --…-password-file} names a file, which is not). */
    private static final Pattern SECRET_OPTION = Pattern.compile("(?i)--?[a-z0-9-]*(secret|password|passwd|token|invite)");

    private Secrets() {}

    /** {@code text} with any password inside a URL masked. */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = USER_INFO.matcher(text).replaceAll("$1" + MASK + "$2");
        return PARAMETER.matcher(out).replaceAll("$1$2" + MASK);
    }

    /**
     * A command line as it may be recorded: each argument {@link #redact redacted}, and the value of a secret option
     * masked, whether given as {@code --password VALUE} or {@code --password=VALUE}.
     */
    public static List<String> commandLine(List<String> args) {
        List<String> out = new ArrayList<>(args.size());
        boolean valueIsSecret = false;
        for (String arg : args) {
            if (arg == null) {
                out.add(null);
                continue;
            }
            if (valueIsSecret) {
                out.add(MASK);
                valueIsSecret = false;
                continue;
            }
            int eq = arg.indexOf('=');
            String name = eq < 0 ? arg : arg.substring(0, eq);
            if (secretOption(name)) {
                if (eq < 0) {
                    out.add(arg);
                    valueIsSecret = true;
                } else {
                    out.add(name + "=" + MASK);
                }
                continue;
            }
            out.add(redact(arg));
        }
        return List.copyOf(out);
    }

    private static boolean secretOption(String name) {
        return SECRET_OPTION.matcher(name).matches();
    }
}
