package ai.coopt.report;

/** The one escaping rule of every HTML page this project writes: the run report and the platform's dashboard. */
public final class Html {
    private Html() {}

    /**
     * HTML-escapes text for element content and quoted attribute values: the five markup characters become
     * references, and control characters that HTML does not allow (all C0 but tab, line feed and carriage return,
     * DEL, C1) become U+FFFD. Null is the empty string.
     */
    public static String escape(String raw) {
        if (raw == null) {
            return "";
        }
        StringBuilder b = null;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            String replacement = switch (c) {
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '&' -> "&amp;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x7f && c <= 0x9f)
                        ? "\uFFFD" : null;
            };
            if (replacement != null && b == null) {
                b = new StringBuilder(raw.length() + 16).append(raw, 0, i);
            }
            if (b != null) {
                if (replacement != null) {
                    b.append(replacement);
                } else {
                    b.append(c);
                }
            }
        }
        return b == null ? raw : b.toString();
    }
}
