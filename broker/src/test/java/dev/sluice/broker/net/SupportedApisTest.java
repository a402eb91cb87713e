package dev.sluice.broker.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Map;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.junit.jupiter.api.Test;

class SupportedApisTest {
    private static final SupportedApis APIS = SupportedApis.of(Map.of(
                    ApiKeys.API_VERSIONS, new short[] {0, 4},
                    ApiKeys.METADATA, new short[] {4, 12}))
            .withFeatures(
                    Map.of("transaction.version", new short[] {0, 2}, "group.version", new short[] {1, 1}),
                    Map.of("transaction.version", (short) 2),
                    7L);

    @Test
    void shouldServeExactlyTheListedVersions() {
        assertThat(APIS.supports(ApiKeys.METADATA, (short) 4)).isTrue();
        assertThat(APIS.supports(ApiKeys.METADATA, (short) 12)).isTrue();
        assertThat(APIS.supports(ApiKeys.METADATA, (short) 3)).isFalse();
        assertThat(APIS.supports(ApiKeys.METADATA, (short) 13)).isFalse();
        assertThat(APIS.supports(ApiKeys.FETCH, (short) 12)).isFalse();
        assertThat(APIS.supports(null, (short) 0)).isFalse();
        assertThat(APIS.apis()).containsExactlyInAnyOrder(ApiKeys.API_VERSIONS, ApiKeys.METADATA);
        assertThat(APIS.minVersion(ApiKeys.METADATA)).isEqualTo((short) 4);
        assertThat(APIS.maxVersion(ApiKeys.METADATA)).isEqualTo((short) 12);
    }

    @Test
    void shouldRejectRangesKafkaClientsCannotParse() {
        assertThatThrownBy(() -> SupportedApis.of(
                        Map.of(ApiKeys.API_VERSIONS, new short[] {0, 4}, ApiKeys.METADATA, new short[] {
                            0, (short) (ApiKeys.METADATA.latestVersion() + 1)
                        })))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("METADATA");
        assertThatThrownBy(() -> SupportedApis.of(
                        Map.of(ApiKeys.API_VERSIONS, new short[] {0, 4}, ApiKeys.METADATA, new short[] {5, 4})))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SupportedApis.of(Map.of(ApiKeys.METADATA, new short[] {4, 12})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ApiVersions");
    }

    @Test
    void shouldListEveryServedApiWhenThereIsNoError() {
        ApiVersionsResponse response = APIS.apiVersionsResponse((short) 3, Errors.NONE, 5);

        assertThat(response.data().errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(response.throttleTimeMs()).isEqualTo(5);
        ApiVersion metadata = response.apiVersion(ApiKeys.METADATA.id);
        assertThat(metadata.minVersion()).isEqualTo((short) 4);
        assertThat(metadata.maxVersion()).isEqualTo((short) 12);
        assertThat(response.data().finalizedFeaturesEpoch()).isEqualTo(7L);
        assertThat(response.data()
                        .finalizedFeatures()
                        .find("transaction.version")
                        .maxVersionLevel())
                .isEqualTo((short) 2);
    }

    @Test
    void shouldOmitLevelZeroFeaturesBelowVersionFourLikeKafka() {
        assertThat(APIS.apiVersionsResponse((short) 3, Errors.NONE, 0).data().supportedFeatures())
                .extracting(f -> f.name())
                .containsExactly("group.version");
        assertThat(APIS.apiVersionsResponse((short) 4, Errors.NONE, 0).data().supportedFeatures())
                .extracting(f -> f.name())
                .containsExactlyInAnyOrder("group.version", "transaction.version");
    }

    @Test
    void shouldListOnlyApiVersionsOnUnsupportedVersion() {
        ApiVersionsResponse response = APIS.apiVersionsResponse((short) 0, Errors.UNSUPPORTED_VERSION, 0);

        assertThat(response.data().apiKeys()).hasSize(1);
        assertThat(response.apiVersion(ApiKeys.API_VERSIONS.id).maxVersion()).isEqualTo((short) 4);
        assertThat(response.data().supportedFeatures()).isEmpty();
    }

    @Test
    void shouldSerializeAtEveryApiVersionsVersion() {
        SupportedApis all = SupportedApis.allVersionsOf(EnumSet.of(ApiKeys.PRODUCE, ApiKeys.FETCH));
        for (short version = 0; version <= ApiKeys.API_VERSIONS.latestVersion(); version++) {
            for (Errors error : new Errors[] {Errors.NONE, Errors.UNSUPPORTED_VERSION, Errors.INVALID_REQUEST}) {
                ApiVersionsResponse response = all.apiVersionsResponse(version, error, 0);
                ApiVersionsResponse parsed = ApiVersionsResponse.parse(
                        new ByteBufferAccessor(MessageUtil.toByteBufferAccessor(response.data(), version)
                                .buffer()),
                        version);
                assertThat(parsed.data().errorCode()).isEqualTo(error.code());
                assertThat(parsed.data().apiKeys())
                        .hasSameSizeAs(response.data().apiKeys());
            }
        }
    }
}
