package ai.coopt.platform.server;

import ai.coopt.store.Json;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ConditionalHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Reads a small request body whole before any thread handles the request, for routes that take requests from anyone
 * (enrolment). The handlers read bodies with blocking servlet reads, so a body that trickles in holds the thread that
 * reads it; before authentication nothing tells an honest caller from an attacker, and a few hundred slow enrolments
 * could keep every enrolment's reader busy. Here the bytes are gathered as they arrive, holding no thread between them,
 * and the request reaches its handler only once its body is complete. A body that is not complete within the deadline
 * is answered 408 and its connection closed. A body with no Content-Length, or a larger one than {@code max}, goes on
 * at once, for the handler to refuse.
 */
final class WholeBodies extends ConditionalHandler.ElseNext {
    private final int max;
    private final long deadlineMillis;
    private final boolean tls;

    /**
     * @param max            the largest body gathered, in bytes
     * @param deadlineMillis a body must arrive whole within this, counted from its request's headers
     * @param tls            whether the platform serves TLS (for the security headers of a 408)
     * @param paths          the POST routes whose bodies are gathered
     */
    WholeBodies(int max, long deadlineMillis, boolean tls, String... paths) {
        this.max = max;
        this.deadlineMillis = deadlineMillis;
        this.tls = tls;
        includeMethod("POST");
        includePath(paths);
    }

    @Override
    protected boolean onConditionsMet(Request request, Response response, Callback callback) throws Exception {
        long length = request.getLength();
        if (length <= 0 || length > max) {
            return nextHandler(request, response, callback);
        }
        new Gathering(request, response, callback, (int) length).start();
        return true;
    }

    /** One body being gathered: read as its bytes arrive (a demand callback each time), until whole or too late. */
    private final class Gathering implements Runnable {
        private final Request request;
        private final Response response;
        private final Callback callback;
        private final byte[] body;
        /** Set once, by whichever comes first: the whole body, a failure, or the deadline. */
        private final AtomicBoolean settled = new AtomicBoolean();
        private int filled;
        private volatile Scheduler.Task deadline;

        Gathering(Request request, Response response, Callback callback, int length) {
            this.request = request;
            this.response = response;
            this.callback = callback;
            this.body = new byte[length];
        }

        void start() {
            deadline = request.getComponents().getScheduler().schedule(this::expire, deadlineMillis,
                    TimeUnit.MILLISECONDS);
            run();
        }

        /** Reads what has arrived; asks to be called again when more does. */
        @Override
        public void run() {
            while (true) {
                if (settled.get()) {
                    // answered already (the deadline passed): the request may be complete, so it is not read again
                    return;
                }
                Content.Chunk chunk;
                try {
                    chunk = request.read();
                    if (chunk == null) {
                        request.demand(this);
                        return;
                    }
                } catch (IllegalStateException e) {
                    if (settled.get()) {
                        // the deadline's answer completed the request between the check above and the read
                        return;
                    }
                    throw e;
                }
                try {
                    if (Content.Chunk.isFailure(chunk)) {
                        if (settle()) {
                            callback.failed(chunk.getFailure());
                        }
                        return;
                    }
                    ByteBuffer bytes = chunk.getByteBuffer();
                    int n = bytes.remaining();
                    if (n > body.length - filled) {
                        // HTTP/1.1 framing delivers at most Content-Length bytes; anything else is refused, not trusted
                        refuse(400, "the request body is longer than its Content-Length", false);
                        return;
                    }
                    bytes.get(body, filled, n);
                    filled += n;
                    if (chunk.isLast()) {
                        if (filled < body.length) {
                            refuse(400, "the request body is shorter than its Content-Length", false);
                        } else if (settle()) {
                            handle();
                        }
                        return;
                    }
                } finally {
                    chunk.release();
                }
            }
        }

        private boolean settle() {
            if (!settled.compareAndSet(false, true)) {
                return false;
            }
            Scheduler.Task d = deadline;
            if (d != null) {
                d.cancel();
            }
            return true;
        }

        private void expire() {
            refuse(408, "the request body did not arrive within " + deadlineMillis / 1000.0 + " s", true);
        }

        private void refuse(int status, String reason, boolean close) {
            if (!settle()) {
                return;
            }
            try {
                byte[] json = Json.mapper().writeValueAsBytes(Map.of("error", reason));
                response.setStatus(status);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                SecurityHeaders.apply(response.getHeaders()::put, tls);
                if (close) {
                    response.getHeaders().put(HttpHeader.CONNECTION, "close");
                }
                response.write(true, ByteBuffer.wrap(json), callback);
            } catch (Exception e) {
                callback.failed(e);
            }
        }

        /** The request goes on to its handler with the body it sent, now all in memory. */
        private void handle() {
            Request whole = new Whole(request, body);
            try {
                if (!getHandler().handle(whole, response, callback)) {
                    Response.writeError(whole, response, callback, 404);
                }
            } catch (Throwable t) {
                Response.writeError(whole, response, callback, t);
            }
        }
    }

    /** A request whose body has been read already: it reads back from memory. */
    private static final class Whole extends Request.Wrapper {
        private ByteBuffer body;

        Whole(Request request, byte[] body) {
            super(request);
            this.body = ByteBuffer.wrap(body);
        }

        @Override
        public Content.Chunk read() {
            if (body == null) {
                return Content.Chunk.EOF;
            }
            Content.Chunk all = Content.Chunk.from(body, true);
            body = null;
            return all;
        }

        @Override
        public void demand(Runnable demandCallback) {
            demandCallback.run();
        }
    }
}
