package ai.coopt.report;

import gg.jte.ContentType;
import gg.jte.TemplateEngine;
import gg.jte.html.OwaspHtmlTemplateOutput;
import gg.jte.output.StringOutput;

import java.util.Locale;
import java.util.Set;

/**
 * The one escaping rule of every HTML page this project writes (the run report, the platform's dashboard): the pages
 * are jte templates of content type HTML, so every {@code ${...}} is escaped for where the template puts it, by jte's
 * HTML output ({@link OwaspHtmlTemplateOutput}), which this output is. Scripts, event handlers and URL attributes keep
 * jte's rules (JavaScript escaping; {@code javascript:} and {@code data:} URLs dropped); element text and the other
 * attributes get a stricter character set than jte's own: the five markup characters become references in both (jte
 * leaves quotes in text and {@code >} in attributes), and control characters that HTML does not allow (all C0 but
 * tab, line feed and carriage return; DEL; C1) become U+FFFD everywhere. A participant's name thus reads the same in
 * a cell and in a title. Null writes nothing.
 */
public final class PageOutput extends OwaspHtmlTemplateOutput {
    /** Attributes whose value is a URL: left to jte, which drops unsafe schemes there. */
    private static final Set<String> URL_ATTRIBUTES = Set.of("href", "src", "action", "formaction", "srcdoc");

    private final StringOutput out;
    private String tag;
    private String attribute;

    private PageOutput(StringOutput out) {
        super(out);
        this.out = out;
    }

    /** The engine of the templates jte-maven-plugin compiled into {@code packageName} (nothing compiles at run time). */
    public static TemplateEngine engine(Class<?> owner, String packageName) {
        return TemplateEngine.createPrecompiled(null, ContentType.Html, owner.getClassLoader(), packageName);
    }

    /** Renders {@code template} of {@code engine} with its one parameter. */
    public static String render(TemplateEngine engine, String template, Object model, int capacity) {
        PageOutput output = new PageOutput(new StringOutput(capacity));
        engine.render(template, model, output);
        return output.out.toString();
    }

    @Override
    public void setContext(String tagName, String attributeName) {
        super.setContext(tagName, attributeName);
        tag = tagName;
        attribute = attributeName;
    }

    @Override
    public void writeUserContent(String value) {
        if (value == null) {
            return;
        }
        if (jteEscapes()) {
            super.writeUserContent(replaceControls(value));
            return;
        }
        int from = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            String replacement = switch (c) {
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '&' -> "&amp;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> control(c) ? "\uFFFD" : null;
            };
            if (replacement != null) {
                out.writeContent(value, from, i);
                out.writeContent(replacement);
                from = i + 1;
            }
        }
        out.writeContent(value, from, value.length());
    }

    private boolean jteEscapes() {
        return "script".equalsIgnoreCase(tag) || attribute != null
                && (attribute.regionMatches(true, 0, "on", 0, 2)
                || URL_ATTRIBUTES.contains(attribute.toLowerCase(Locale.ROOT)));
    }

    private static boolean control(char c) {
        return c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c >= 0x7f && c <= 0x9f;
    }

    private static String replaceControls(String value) {
        StringBuilder b = null;
        for (int i = 0; i < value.length(); i++) {
            if (control(value.charAt(i))) {
                if (b == null) {
                    b = new StringBuilder(value);
                }
                b.setCharAt(i, '\uFFFD');
            }
        }
        return b == null ? value : b.toString();
    }
}
