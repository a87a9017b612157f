package ai.coopt.report;

import ai.coopt.UserException;
import ai.coopt.store.AtomicFiles;
import gg.jte.TemplateEngine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A self-contained HTML page: headings, paragraphs, tables and PNG images embedded as data URIs, one
 * stylesheet inline, no script and nothing fetched, so it opens from disk anywhere (and mails well).
 * The builder collects the blocks; the template {@code src/main/jte/report.jte} lays them out and escapes every text
 * ({@link PageOutput}); the page is written atomically.
 */
public final class HtmlReport {
    private static final TemplateEngine TEMPLATES = PageOutput.engine(HtmlReport.class, "ai.coopt.report");

    /** What the template shows: the title and the blocks in order. */
    record Page(String title, List<Block> blocks) {}

    sealed interface Block permits Heading, Paragraph, Note, Table, Image {}

    record Heading(String text) implements Block {}

    record Paragraph(String text) implements Block {}

    record Note(String text) implements Block {}

    record Table(List<String> header, List<List<Cell>> rows) implements Block {}

    /** A table cell; numbers are right-aligned. */
    record Cell(String text, boolean numeric) {}

    record Image(String alt, String base64) implements Block {}

    private final String title;
    private final List<Block> blocks = new ArrayList<>();

    public HtmlReport(String title) {
        this.title = title;
    }

    public HtmlReport heading(String text) {
        blocks.add(new Heading(text));
        return this;
    }

    public HtmlReport paragraph(String text) {
        blocks.add(new Paragraph(text));
        return this;
    }

    /** A smaller, greyed paragraph: provenance, commands, caveats. */
    public HtmlReport note(String text) {
        blocks.add(new Note(text));
        return this;
    }

    /** A table; cells that parse as numbers (optionally with a trailing % or s) are right-aligned. */
    public HtmlReport table(List<String> header, List<List<String>> rows) {
        List<List<Cell>> cells = new ArrayList<>(rows.size());
        for (List<String> row : rows) {
            if (row.size() != header.size()) {
                throw new IllegalArgumentException("row has " + row.size() + " cells, header " + header.size());
            }
            cells.add(row.stream().map(cell -> new Cell(cell, numeric(cell))).toList());
        }
        blocks.add(new Table(List.copyOf(header), cells));
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
        blocks.add(new Image(alt, Base64.getEncoder().encodeToString(bytes)));
        return this;
    }

    /** The whole page. */
    public String html() {
        int images = blocks.stream().mapToInt(b -> b instanceof Image i ? i.base64().length() : 0).sum();
        return PageOutput.render(TEMPLATES, "report.jte", new Page(title, List.copyOf(blocks)), 8192 + images);
    }

    /** Writes the page atomically. */
    public void write(Path file) {
        AtomicFiles.writeBytes(file, html().getBytes(StandardCharsets.UTF_8));
    }

    private static boolean numeric(String cell) {
        return cell.matches("[-+±]?[0-9][0-9,]*(\\.[0-9]+)?( ?± ?[0-9.]+)? ?(%|s|×)?");
    }
}
