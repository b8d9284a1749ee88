package dev.grpcquic.fallback;

import java.security.KeyStore;
import java.time.Duration;

/**
 * What the HTTP/2 side of a server that serves both protocols takes over from the QUIC side.
 *
 * @param keyStore the server's key and certificate chain (the QUIC side's)
 * @param keyAlias alias of the key entry
 * @param keyPassword password of the key entry
 * @param flowControlWindow HTTP/2 stream window, in bytes
 * @param maxInboundMetadataSize largest header list accepted
 * @param maxInboundMessageSize largest message accepted
 * @param maxConcurrentCallsPerConnection HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS
 * @param altSvcMaxAge how long clients may remember the {@code alt-svc: h3} advice; zero sends none
 * @param clientTrust when not null, clients must present a certificate this trust manager accepts
 */
public record TcpServerSettings(
    KeyStore keyStore,
    String keyAlias,
    char[] keyPassword,
    int flowControlWindow,
    int maxInboundMetadataSize,
    int maxInboundMessageSize,
    int maxConcurrentCallsPerConnection,
    Duration altSvcMaxAge,
    javax.net.ssl.X509TrustManager clientTrust) {}
