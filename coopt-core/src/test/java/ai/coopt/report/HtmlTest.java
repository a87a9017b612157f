package ai.coopt.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one escaping rule of the report and the dashboard ({@link PageOutput}, the output of their jte templates),
 * checked through the report's template: the same hostile strings as when the rule was a function.
 */
class HtmlTest {
    private static final String HOSTILE = "<a href=\"x\">O'Neil & co</a>";
    private static final String ESCAPED = "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;";

    @Test
    void textIsEscapedForMarkupAndControlCharacters() {
        String html = new HtmlReport(HOSTILE).heading(HOSTILE).paragraph(HOSTILE).note(HOSTILE)
                .paragraph("a\u0000b\u0085c\td\ne").paragraph("plain").paragraph(null).html();
        for (String place : List.of("<title>%s</title>", "<h1>%s</h1>", "<h2>%s</h2>", "<p>%s</p>",
                "<p class=\"note\">%s</p>")) {
            assertTrue(html.contains(place.formatted(ESCAPED)), place);
        }
        assertTrue(html.contains("<p>a\uFFFDb\uFFFDc\td\ne</p>"));
        assertTrue(html.contains("<p>plain</p>"));
        assertTrue(html.contains("<p></p>"), "null is the empty string");
        assertTrue(!html.contains("<a ") && !html.contains("O'Neil"));
    }

    @Test
    void cellsAndAttributesAreEscapedTheSameWay(@TempDir Path tmp) throws Exception {
        Path png = Files.write(tmp.resolve("x.png"), new byte[] {1, 2, 3});
        String html = new HtmlReport("t").table(List.of(HOSTILE), List.of(List.of(HOSTILE), List.of("12 %")))
                .image(png, HOSTILE + "\u0001").html();
        assertTrue(html.contains("<tr><th>" + ESCAPED + "</th></tr>"));
        assertTrue(html.contains("<tr><td>" + ESCAPED + "</td></tr>"));
        assertTrue(html.contains("<tr><td class=\"n\">12 %</td></tr>"), "numbers right-aligned");
        assertTrue(html.contains("<p><img alt=\"" + ESCAPED + "\uFFFD\" src=\"data:image/png;base64,AQID\"></p>"));
    }
}
