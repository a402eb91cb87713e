package dev.sluice.partitionstore;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The storage logic stays pure: only the adapter packages ({@code mapped}, {@code rocksdb}) may touch
 * memory mapping, RocksDB, Raft or the network.
 */
class LayeringTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.sluice.partitionstore");

    @Test
    void coreShouldNotDependOnIoLibraries() {
        noClasses()
                .that()
                .resideInAPackage("dev.sluice.partitionstore")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "org.rocksdb..", "net.openhft..", "org.apache.ratis..", "io.netty..", "java.nio.channels..")
                .because("adapters are the only places that touch RocksDB, chronicle, Ratis, Netty or file channels")
                .check(CLASSES);
    }

    @Test
    void segmentAdapterShouldNotReachIntoRocksDb() {
        noClasses()
                .that()
                .resideInAPackage("dev.sluice.partitionstore.mapped..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("org.rocksdb..", "dev.sluice.partitionstore.rocksdb..")
                .check(CLASSES);
    }

    @Test
    void metadataAdapterShouldNotReachIntoSegments() {
        noClasses()
                .that()
                .resideInAPackage("dev.sluice.partitionstore.rocksdb..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("net.openhft..", "dev.sluice.partitionstore.mapped..")
                .check(CLASSES);
    }
}
