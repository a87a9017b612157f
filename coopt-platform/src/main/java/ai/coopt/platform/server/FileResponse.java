package ai.coopt.platform.server;

import io.javalin.http.Context;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A file as a response, whole or one byte range ({@code Range: bytes=FROM-[TO]}, RFC 9110), so that a client resumes
 * an interrupted download where it stopped. Several ranges or a suffix range ({@code bytes=-N}) get the whole file
 * (allowed: a server may ignore Range); a range starting at or past the end is a 416.
 */
final class FileResponse {
    private static final Pattern RANGE = Pattern.compile("bytes=([0-9]{1,19})-([0-9]{0,19})");

    private FileResponse() {}

    static void send(Context ctx, Path file) throws IOException, Refusal {
        long size = Files.size(file);
        ctx.contentType("application/octet-stream");
        ctx.header("Accept-Ranges", "bytes");
        String range = ctx.header("Range");
        Matcher m = range == null ? null : RANGE.matcher(range.trim());
        if (m == null || !m.matches()) {
            ctx.header("Content-Length", Long.toString(size));
            ctx.result(Files.newInputStream(file));
            return;
        }
        long from;
        long to;
        try {
            from = Long.parseLong(m.group(1));
            to = m.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(m.group(2)), size - 1);
        } catch (NumberFormatException e) {
            from = Long.MAX_VALUE;
            to = -1;
        }
        if (from >= size || to < from) {
            ctx.header("Content-Range", "bytes */" + size);
            throw new Refusal(Refusal.Kind.OUT_OF_RANGE, "the range " + range.trim() + " is outside the file's " + size + " bytes");
        }
        SeekableByteChannel channel = Files.newByteChannel(file);
        channel.position(from);
        InputStream in = new BoundedInput(Channels.newInputStream(channel), to - from + 1);
        ctx.status(206);
        ctx.header("Content-Range", "bytes " + from + "-" + to + "/" + size);
        ctx.header("Content-Length", Long.toString(to - from + 1));
        ctx.result(in);
    }

    /** At most {@code left} bytes of a stream. */
    private static final class BoundedInput extends java.io.FilterInputStream {
        private long left;

        BoundedInput(InputStream in, long left) {
            super(in);
            this.left = left;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
