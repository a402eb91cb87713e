package dev.sluice.broker.http;

import java.util.Objects;

/**
 * The answer of an {@link HttpRoute}: status, content type and body; for a 405, the methods the path allows.
 *
 * @param status the HTTP status code
 * @param contentType the value of the {@code Content-Type} header
 * @param body the body, sent as UTF-8 (left out for a {@code HEAD} request)
 * @param allow the {@code Allow} header of a 405 answer, else null
 */
public record HttpAnswer(int status, String contentType, String body, String allow) {
    public static final String JSON = "application/json; charset=utf-8";
    public static final String TEXT = "text/plain; charset=utf-8";

    public HttpAnswer {
        Objects.requireNonNull(contentType, "contentType");
        Objects.requireNonNull(body, "body");
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("status must be an HTTP status code, got " + status);
        }
    }

    /** 200 with a JSON body. */
    public static HttpAnswer json(String body) {
        return new HttpAnswer(200, JSON, body, null);
    }

    /** A plain-text answer; a newline is added. */
    public static HttpAnswer text(int status, String message) {
        return new HttpAnswer(status, TEXT, message + "\n", null);
    }

    /** 405 naming the methods the path allows. */
    public static HttpAnswer methodNotAllowed(String allow) {
        return new HttpAnswer(405, TEXT, "method not allowed: use " + allow + "\n", allow);
    }
}
