package dev.grpcquic.transport;

import dev.grpcquic.engine.QuicClientEngine;
import java.time.Duration;
import javax.net.ssl.X509TrustManager;

/**
 * What every client transport of one channel shares, as set on the channel builder.
 *
 * @param engine makes the QUIC connections
 * @param trustManager checks server certificates; null turns the check off (insecure)
 * @param windowSizing chooses each connection's receive windows and its stream limit (request
 *     streams one connection opens at once; more calls wait)
 * @param maxInboundMetadataSize largest header list accepted, by RFC 9114's measure
 * @param maxInboundMessageSize largest message accepted
 * @param connectTimeout handshake time limit
 * @param quicIdleTimeout QUIC max_idle_timeout
 * @param keepAliveTime PING interval while there is nothing else to send; zero for none
 * @param clientKeyManager the client certificate, offered when a server asks; null for none
 * @param quietPathProbe with calls in flight and nothing received for this long, send a PING;
 *     zero for none
 * @param sessionTickets where session tickets are kept by authority; null turns resumption off
 * @param earlyData whether calls eligible for 0-RTT go as early data on a resumed connection
 * @param connectionRegistry told of each connection once it is ready and again when it ends (for
 *     the channel's migration controller); null for none
 * @param keyLogFile where each connection appends its TLS secrets (NSS key log format); null for
 *     none
 */
public record ClientTransportSettings(
    QuicClientEngine engine,
    X509TrustManager trustManager,
    ClientWindowSizing windowSizing,
    int maxInboundMetadataSize,
    int maxInboundMessageSize,
    Duration connectTimeout,
    Duration quicIdleTimeout,
    Duration keepAliveTime,
    ConnectionRegistry connectionRegistry,
    javax.net.ssl.X509ExtendedKeyManager clientKeyManager,
    Duration quietPathProbe,
    SessionTicketStore sessionTickets,
    boolean earlyData,
    java.nio.file.Path keyLogFile) {
}
