package dev.sluice.broker.net;

import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.common.feature.Features;
import org.apache.kafka.common.feature.SupportedVersionRange;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsResponse;

/**
 * The API versions this node serves, {@code ApiKeys -> [min, max]}, plus the features it advertises in
 * ApiVersions responses (v3+). What is not listed here is not served: a request for it closes the connection,
 * as Kafka's {@code SocketServer} does for APIs that are not enabled.
 *
 * <p>Invariants, checked at construction: ApiVersions is listed; every range satisfies
 * {@code key.oldestVersion() <= min <= max <= key.latestVersion()}, so every advertised version can be parsed
 * by the kafka-clients message classes.
 *
 * <p>Immutable and thread-safe.
 */
public final class SupportedApis {
    private final Map<ApiKeys, short[]> ranges;
    private final Map<String, SupportedVersionRange> supportedFeatures;
    private final Map<String, Short> finalizedFeatures;
    private final long finalizedFeaturesEpoch;

    private SupportedApis(
            Map<ApiKeys, short[]> ranges,
            Map<String, SupportedVersionRange> supportedFeatures,
            Map<String, Short> finalizedFeatures,
            long finalizedFeaturesEpoch) {
        this.ranges = ranges;
        this.supportedFeatures = supportedFeatures;
        this.finalizedFeatures = finalizedFeatures;
        this.finalizedFeaturesEpoch = finalizedFeaturesEpoch;
    }

    /**
     * @param ranges {@code ApiKeys -> {min, max}}; must include {@link ApiKeys#API_VERSIONS}
     * @throws IllegalArgumentException naming the api key whose range is malformed or outside what
     *     kafka-clients can parse
     */
    public static SupportedApis of(Map<ApiKeys, short[]> ranges) {
        Objects.requireNonNull(ranges, "ranges");
        EnumMap<ApiKeys, short[]> copy = new EnumMap<>(ApiKeys.class);
        for (Map.Entry<ApiKeys, short[]> entry : ranges.entrySet()) {
            ApiKeys key = Objects.requireNonNull(entry.getKey(), "api key");
            short[] range = entry.getValue();
            if (range == null || range.length != 2) {
                throw new IllegalArgumentException("range of " + key + " must be {min, max}");
            }
            short min = range[0];
            short max = range[1];
            if (min > max || min < key.oldestVersion() || max > key.latestVersion()) {
                throw new IllegalArgumentException("range of " + key + " must satisfy " + key.oldestVersion()
                        + " <= min <= max <= " + key.latestVersion() + ", was [" + min + ", " + max + "]");
            }
            copy.put(key, new short[] {min, max});
        }
        if (!copy.containsKey(ApiKeys.API_VERSIONS)) {
            throw new IllegalArgumentException("ApiVersions must be served: clients cannot connect without it");
        }
        return new SupportedApis(Collections.unmodifiableMap(copy), Map.of(), Map.of(), -1L);
    }

    /** Every version kafka-clients knows of each given API (the newest, possibly unstable, included). */
    public static SupportedApis allVersionsOf(Set<ApiKeys> apis) {
        Map<ApiKeys, short[]> ranges = new EnumMap<>(ApiKeys.class);
        for (ApiKeys key : apis) {
            ranges.put(key, new short[] {key.oldestVersion(), key.latestVersion()});
        }
        ranges.putIfAbsent(
                ApiKeys.API_VERSIONS,
                new short[] {ApiKeys.API_VERSIONS.oldestVersion(), ApiKeys.API_VERSIONS.latestVersion()});
        return of(ranges);
    }

    /**
     * A copy that also advertises features (ApiVersions v3+ fields, KIP-584), e.g. {@code transaction.version}.
     *
     * @param supported feature name -> {min, max} supported level
     * @param finalized feature name -> finalized level
     * @param finalizedEpoch the epoch of the finalized features, -1 when unknown
     */
    public SupportedApis withFeatures(
            Map<String, short[]> supported, Map<String, Short> finalized, long finalizedEpoch) {
        Map<String, SupportedVersionRange> supportedCopy = new LinkedHashMap<>();
        supported.forEach((name, range) -> {
            if (range == null || range.length != 2 || range[0] > range[1] || range[0] < 0) {
                throw new IllegalArgumentException("supported range of feature " + name + " must be {min, max}");
            }
            supportedCopy.put(name, new SupportedVersionRange(range[0], range[1]));
        });
        return new SupportedApis(
                ranges,
                Collections.unmodifiableMap(supportedCopy),
                Collections.unmodifiableMap(new LinkedHashMap<>(finalized)),
                finalizedEpoch);
    }

    /** True when {@code version} of {@code key} is served. */
    public boolean supports(ApiKeys key, short version) {
        short[] range = key == null ? null : ranges.get(key);
        return range != null && version >= range[0] && version <= range[1];
    }

    /** The served APIs. */
    public Set<ApiKeys> apis() {
        return ranges.keySet();
    }

    /** The lowest served version of {@code key}; the key must be served. */
    public short minVersion(ApiKeys key) {
        return range(key)[0];
    }

    /** The highest served version of {@code key}; the key must be served. */
    public short maxVersion(ApiKeys key) {
        return range(key)[1];
    }

    private short[] range(ApiKeys key) {
        short[] range = ranges.get(key);
        if (range == null) {
            throw new IllegalArgumentException(key + " is not served");
        }
        return range;
    }

    /**
     * The ApiVersions response Kafka's broker would send for a request of {@code version}.
     *
     * <ul>
     *   <li>{@link Errors#NONE}: every served API with its range, and the features (omitting, below v4, supported
     *       features whose minimum level is 0, as Kafka does for KAFKA-17492).
     *   <li>{@link Errors#UNSUPPORTED_VERSION}: only the ApiVersions range (KIP-511), so the client can retry
     *       with a version this node serves; such a response is sent at version 0.
     *   <li>any other error: no API list.
     * </ul>
     */
    public ApiVersionsResponse apiVersionsResponse(short version, Errors error, int throttleMs) {
        ApiVersionCollection apiKeys = new ApiVersionCollection();
        if (error == Errors.NONE) {
            ranges.forEach((key, range) -> apiKeys.add(apiVersion(key, range)));
        } else if (error == Errors.UNSUPPORTED_VERSION) {
            apiKeys.add(apiVersion(ApiKeys.API_VERSIONS, ranges.get(ApiKeys.API_VERSIONS)));
        }
        boolean withFeatures = error == Errors.NONE;
        return new ApiVersionsResponse.Builder()
                .setError(error)
                .setThrottleTimeMs(throttleMs)
                .setApiVersions(apiKeys)
                .setSupportedFeatures(
                        withFeatures
                                ? Features.supportedFeatures(supportedFeatures)
                                : Features.emptySupportedFeatures())
                .setFinalizedFeatures(withFeatures ? finalizedFeatures : Map.of())
                .setFinalizedFeaturesEpoch(withFeatures ? finalizedFeaturesEpoch : -1L)
                .setAlterFeatureLevel0(version < 4)
                .build();
    }

    private static ApiVersion apiVersion(ApiKeys key, short[] range) {
        return new ApiVersion().setApiKey(key.id).setMinVersion(range[0]).setMaxVersion(range[1]);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("SupportedApis(");
        ranges.forEach((key, range) -> sb.append(key.name)
                .append('[')
                .append(range[0])
                .append(',')
                .append(range[1])
                .append("] "));
        return sb.append(')').toString();
    }
}
