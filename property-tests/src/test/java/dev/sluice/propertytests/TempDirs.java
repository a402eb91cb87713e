package dev.sluice.propertytests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Temporary data directories for one try (jqwik has no {@code @TempDir}). Every directory lives under
 * one root per JVM, named with the JVM's pid. A shutdown hook removes the root, and each JVM first
 * removes the roots of JVMs that are gone: when jqwik's shrinking hits its time bound it abandons the
 * try in progress, whose own cleanup then never runs, and that try may still be writing at exit.
 */
final class TempDirs {
    private static final String ROOT_PREFIX = "sluice-property-tests-";
    private static final Path ROOT = createRoot();

    private TempDirs() {}

    private static Path createRoot() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        deleteRootsOfDeadJvms(tmp);
        try {
            Path root = Files.createTempDirectory(
                    tmp, ROOT_PREFIX + ProcessHandle.current().pid() + "-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(root), "delete " + root));
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRootsOfDeadJvms(Path tmp) {
        try (Stream<Path> roots = Files.list(tmp)) {
            for (Path root : (Iterable<Path>) roots::iterator) {
                String name = root.getFileName().toString();
                if (!name.startsWith(ROOT_PREFIX)) {
                    continue;
                }
                String[] parts = name.substring(ROOT_PREFIX.length()).split("-", 2);
                try {
                    long pid = Long.parseLong(parts[0]);
                    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                        continue;
                    }
                } catch (NumberFormatException e) {
                    continue;
                }
                deleteQuietly(root);
            }
        } catch (IOException e) {
            // Leftovers stay; they do not affect this run.
        }
    }

    static Path create(String prefix) {
        try {
            return Files.createTempDirectory(ROOT, prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes {@code dir} and everything below it. */
    static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(dir)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Path path : paths) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Deletes {@code dir}, retrying a few times while an abandoned try may still be writing into it. */
    private static void deleteQuietly(Path dir) {
        for (int attempt = 0; attempt < 20 && Files.exists(dir); attempt++) {
            try {
                delete(dir);
            } catch (UncheckedIOException e) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
