package dev.sluice.broker.http;

import java.util.List;
import java.util.Map;

/**
 * A family of paths the {@link HttpEndpoint} serves besides {@code /metrics}, {@code /health} and {@code
 * /ready}: the endpoint hands every request whose path a route {@link #serves} to that route.
 *
 * <p>Called on the endpoint's single event-loop thread: an answer must be quick and must not block.
 */
public interface HttpRoute {
    /** Whether this route answers requests for {@code path} (the path without its query string). */
    boolean serves(String path);

    /**
     * Answers one request.
     *
     * @param method the HTTP method, upper case ({@code GET}, {@code HEAD}, {@code POST}, ...)
     * @param path the path without its query string
     * @param parameters the query string's parameters, decoded, each with every value it was given
     */
    HttpAnswer answer(String method, String path, Map<String, List<String>> parameters);
}
