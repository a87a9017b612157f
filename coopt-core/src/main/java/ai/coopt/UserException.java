package ai.coopt;

import java.util.EnumSet;
import java.util.Set;

/**
 * An error caused by the user's input (bad path, corrupt file, impossible option).
 * The command line prints its message as one line on stderr and exits with code 2.
 * Messages must be self-contained and must not need a stack trace to be understood.
 * A message about a setting is a {@link Text}: it names the setting through whoever shows it ({@link #message(Setting.Names)}),
 * so the library says "learning rate" where the command line says {@code --lr}; {@link #getMessage()} is the library's.
 */
public class UserException extends RuntimeException {
    /** A message that names settings through {@code names}, never by a front end's spelling of them. */
    @FunctionalInterface
    public interface Text {
        String in(Setting.Names names);
    }

    private final Text text;

    public UserException(String message) {
        this(message, (Throwable) null);
    }

    public UserException(String message, Throwable cause) {
        super(message, cause);
        this.text = names -> message;
    }

    public UserException(Text text) {
        this(text, null);
    }

    public UserException(Text text, Throwable cause) {
        super(text.in(Setting.WORDS), cause);
        this.text = text;
    }

    /** {@code prefix} and the message of {@code cause}, which keeps naming its settings through the shower's names. */
    public static UserException prefixed(String prefix, UserException cause) {
        return new UserException(names -> prefix + cause.message(names), cause);
    }

    /** The message with each setting named by {@code names} (the command line: by its flag). */
    public String message(Setting.Names names) {
        return text.in(names);
    }

    /** The settings the message is about. */
    public Set<Setting> settings() {
        Set<Setting> named = EnumSet.noneOf(Setting.class);
        text.in(s -> {
            named.add(s);
            return s.words();
        });
        return named;
    }
}
