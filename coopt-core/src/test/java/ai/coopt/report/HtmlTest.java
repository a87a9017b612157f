package ai.coopt.report;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The one escaping rule of the report and the dashboard (moved here from DashboardTest with the rule). */
class HtmlTest {
    @Test
    void escapeReplacesMarkupAndControlCharacters() {
        assertEquals("&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;",
                Html.escape("<a href=\"x\">O'Neil & co</a>"));
        assertEquals("a\uFFFDb\uFFFDc\td\ne", Html.escape("a\u0000b\u0085c\td\ne"));
        assertEquals("plain", Html.escape("plain"));
        assertEquals("", Html.escape(null));
    }
}
