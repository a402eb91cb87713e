package dev.sluice.chaos.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 in front of one node's Kafka listener: the clients' way to a node, which the
 * nemesis can cut or slow down. Nodes advertise the proxy's port, so every Kafka client connection to a node
 * crosses it; node-to-node (Raft) traffic does not, that is the fault-injecting Raft transport's job.
 *
 * <ul>
 *   <li>{@link #cut()}: the node becomes unreachable for clients as in a network partition: bytes in both
 *       directions are swallowed (requests time out rather than fail fast), new connections are accepted and
 *       then starve the same way. {@link #heal()} closes every connection that lived through the cut (their
 *       Kafka framing is broken) so clients reconnect.
 *   <li>{@link #setDelayMs(long)}: every chunk forwarded, in either direction, waits this long first
 *       (latency; order is kept, one thread per direction).
 * </ul>
 *
 * <p>Thread-safe. One acceptor thread, two pump threads per connection, all daemons; {@link #close()} ends
 * them and every connection.
 */
public final class TcpProxy implements AutoCloseable {
    private static final int BUFFER_BYTES = 64 * 1024;

    private final String name;
    private final ServerSocket server;
    private final int targetPort;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong generation = new AtomicLong();
    private volatile boolean down;
    private volatile long delayMs;
    private volatile boolean closed;

    private TcpProxy(String name, ServerSocket server, int targetPort) {
        this.name = name;
        this.server = server;
        this.targetPort = targetPort;
    }

    /** Starts a proxy listening on 127.0.0.1:{@code port} (0 picks a free one) forwarding to {@code targetPort}. */
    public static TcpProxy start(String name, int port, int targetPort) throws IOException {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        TcpProxy proxy = new TcpProxy(name, server, targetPort);
        Thread acceptor = new Thread(proxy::acceptLoop, "chaos-proxy-" + name);
        acceptor.setDaemon(true);
        acceptor.start();
        return proxy;
    }

    /** @return the port clients connect to */
    public int port() {
        return server.getLocalPort();
    }

    /** Swallows all traffic through this proxy until {@link #heal()}. */
    public void cut() {
        down = true;
        generation.incrementAndGet();
    }

    /** Ends a {@link #cut()} and closes every connection that saw it; removes any delay. */
    public void heal() {
        down = false;
        delayMs = 0;
        long now = generation.get();
        for (Connection c : connections) {
            if (c.generation != now || c.sawCut) {
                c.close();
            }
        }
    }

    /** Delays every forwarded chunk by {@code delayMs} (0 for none). */
    public void setDelayMs(long delayMs) {
        if (delayMs < 0) {
            throw new IllegalArgumentException("delayMs must be >= 0, got " + delayMs);
        }
        this.delayMs = delayMs;
    }

    /** @return whether the proxy currently swallows traffic */
    public boolean isCut() {
        return down;
    }

    /** Closes every client connection now (a node restart looks like this to clients). */
    public void dropConnections() {
        connections.forEach(Connection::close);
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            Connection connection = new Connection(client, generation.get());
            connections.add(connection);
            connection.start();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        connections.forEach(Connection::close);
    }

    @Override
    public String toString() {
        return "TcpProxy[" + name + " :" + port() + " -> :" + targetPort + (down ? ", cut" : "")
                + (delayMs > 0 ? ", +" + delayMs + " ms" : "") + "]";
    }

    /** One client connection and its upstream connection to the node. */
    private final class Connection {
        private final Socket client;
        private final long generation;
        private volatile Socket upstream;
        private volatile boolean sawCut;

        Connection(Socket client, long generation) {
            this.client = client;
            this.generation = generation;
        }

        void start() {
            Thread thread = new Thread(this::open, "chaos-proxy-" + name + "-conn");
            thread.setDaemon(true);
            thread.start();
        }

        private void open() {
            try {
                client.setTcpNoDelay(true);
                Socket node = new Socket();
                node.setTcpNoDelay(true);
                node.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5_000);
                upstream = node;
            } catch (IOException e) {
                close(); // the node is down: the client sees the connection close, as with a refused connect
                return;
            }
            Thread back = new Thread(() -> pump(upstream, client), "chaos-proxy-" + name + "-down");
            back.setDaemon(true);
            back.start();
            pump(client, upstream);
        }

        private void pump(Socket from, Socket to) {
            byte[] buffer = new byte[BUFFER_BYTES];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (down) {
                        sawCut = true;
                        continue; // swallowed
                    }
                    long delay = delayMs;
                    if (delay > 0) {
                        Thread.sleep(delay);
                    }
                    if (sawCut) {
                        break; // framing is broken; heal() closes us, or do it now
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (SocketException e) {
                // closed by the other side or by close()
            } catch (IOException e) {
                // the same: a connection ends
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                close();
            }
        }

        void close() {
            connections.remove(this);
            closeQuietly(client);
            Socket node = upstream;
            if (node != null) {
                closeQuietly(node);
            }
        }

        private static void closeQuietly(Socket socket) {
            try {
                socket.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }
}
