package dev.grpcquic.transport;

import dev.grpcquic.engine.QuicServerEngine;
import java.net.InetSocketAddress;
import java.security.KeyStore;
import java.time.Duration;

/**
 * What a QUIC server's transports share, as set on the server builder.
 *
 * @param engine makes the listening endpoint
 * @param bindAddress where to listen (port 0 picks one)
 * @param keyStore the server's key and certificate chain
 * @param keyAlias alias of the key entry
 * @param keyPassword password of the key entry
 * @param flowControlWindow initial receive window of each stream, in bytes
 * @param maxInboundMetadataSize largest header list accepted, by RFC 9114's measure
 * @param maxInboundMessageSize largest message accepted
 * @param maxConcurrentCallsPerConnection request streams a client may have open at once
 * @param quicIdleTimeout QUIC max_idle_timeout
 * @param allowClientMigration whether connections follow their client to a new address
 * @param maxConnections connections served at once; more are closed as soon as they arrive
 * @param requestHeadersTimeout how long a request stream may take to deliver its HEADERS
 * @param clientTrust checks client certificates, which every client must present; null for none
 * @param eventLoopThreads 0: the engine's usual threading; above 0: that many UDP sockets on the
 *     port, each on an event-loop thread of its own (quiche engine)
 */
public record ServerTransportSettings(
    QuicServerEngine engine,
    InetSocketAddress bindAddress,
    KeyStore keyStore,
    String keyAlias,
    char[] keyPassword,
    int flowControlWindow,
    int maxInboundMetadataSize,
    int maxInboundMessageSize,
    int maxConcurrentCallsPerConnection,
    Duration quicIdleTimeout,
    boolean allowClientMigration,
    int maxConnections,
    Duration requestHeadersTimeout,
    javax.net.ssl.X509TrustManager clientTrust,
    int eventLoopThreads) {
}
