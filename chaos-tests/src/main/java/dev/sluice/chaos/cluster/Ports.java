package dev.sluice.chaos.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

/**
 * Free loopback ports, never the same one twice within one JVM, drawn from below the kernel's usual ephemeral
 * range (32768 and up) so that a client's outgoing connection cannot take a node's port while the node is
 * down between a kill and its restart.
 */
final class Ports {
    private static final int LOW = 12_000;
    private static final int HIGH = 32_000;
    private static final Set<Integer> HANDED_OUT = new HashSet<>();
    private static final Random RANDOM = new Random();

    private Ports() {}

    /** @return a port free on 127.0.0.1 right now that this JVM has not handed out before */
    static synchronized int free() {
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = LOW + RANDOM.nextInt(HIGH - LOW);
            if (HANDED_OUT.contains(port)) {
                continue;
            }
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(false);
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                HANDED_OUT.add(port);
                return port;
            } catch (IOException e) {
                // taken: try another
            }
        }
        throw new IllegalStateException("found no free loopback port in 1000 attempts");
    }
}
