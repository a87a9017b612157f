package ai.coopt.report;

import ai.coopt.UserException;
import ai.coopt.store.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

/**
 * A self-contained HTML page: headings, paragraphs, tables and PNG images embedded as data URIs, one
 * stylesheet inline, no script and nothing fetched, so it opens from disk anywhere (and mails well).
 * Text is escaped; the page is written atomically.
 */
public final class HtmlReport {
    private static final String STYLE = """
            body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;max-width:1040px;\
            margin:2em auto;padding:0 1em;color:#1b1b1b;line-height:1.45}
            h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
            table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
            th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
            img{max-width:100%;height:auto;border:1px solid #eee}.note{color:#555;font-size:.92em}
            """;
    private final String title;
    private final StringBuilder body = new StringBuilder();

    public HtmlReport(String title) {
        this.title = title;
        body.append("<h1>").append(Html.escape(title)).append("</h1>\n");
    }

    public HtmlReport heading(String text) {
        body.append("<h2>").append(Html.escape(text)).append("</h2>\n");
        return this;
    }

    public HtmlReport paragraph(String text) {
        body.append("<p>").append(Html.escape(text)).append("</p>\n");
        return this;
    }

    /** A smaller, greyed paragraph: provenance, commands, caveats. */
    public HtmlReport note(String text) {
        body.append("<p class=\"note\">").append(Html.escape(text)).append("</p>\n");
        return this;
    }

    /** A table; cells that parse as numbers (optionally with a trailing % or s) are right-aligned. */
    public HtmlReport table(List<String> header, List<List<String>> rows) {
        body.append("<table>\n<tr>");
        header.forEach(h -> body.append("<th>").append(Html.escape(h)).append("</th>"));
        body.append("</tr>\n");
        for (List<String> row : rows) {
            if (row.size() != header.size()) {
                throw new IllegalArgumentException("row has " + row.size() + " cells, header " + header.size());
            }
            body.append("<tr>");
            for (String cell : row) {
                body.append(numeric(cell) ? "<td class=\"n\">" : "<td>").append(Html.escape(cell)).append("</td>");
            }
            body.append("</tr>\n");
        }
        body.append("</table>\n");
        return this;
    }

    /** Embeds a PNG file as a data URI. */
    public HtmlReport image(Path png, String alt) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(png);
        } catch (IOException e) {
            throw new UserException("cannot read " + png + " for the report: " + e.getMessage());
        }
        body.append("<p><img alt=\"").append(Html.escape(alt)).append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(bytes)).append("\"></p>\n");
        return this;
    }

    /** The whole page. */
    public String html() {
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + Html.escape(title)
                + "</title>\n<style>\n" + STYLE + "</style>\n</head>\n<body>\n" + body + "</body>\n</html>\n";
    }

    /** Writes the page atomically. */
    public void write(Path file) {
        AtomicFiles.writeBytes(file, html().getBytes(StandardCharsets.UTF_8));
    }

    private static boolean numeric(String cell) {
        return cell.matches("[-+±]?[0-9][0-9,]*(\\.[0-9]+)?( ?± ?[0-9.]+)? ?(%|s|×)?");
    }
}
