package dev.grpcquic.engine;

import java.net.InetSocketAddress;
import java.security.KeyStore;
import java.time.Duration;

/**
 * What a server endpoint needs.
 *
 * @param bindAddress address and port to bind; port 0 picks a free one
 * @param applicationProtocol ALPN, "h3"
 * @param keyStore holds the server's key and certificate chain (EC P-256/384/521 or RSA)
 * @param keyAlias alias of the key entry
 * @param keyPassword password of the key entry
 * @param idleTimeout QUIC max_idle_timeout
 * @param streamReceiveWindow initial flow-control window of each stream
 * @param connectionReceiveWindow initial flow-control window of each connection
 * @param maxPeerBidirectionalStreams concurrent request streams a client may open
 * @param maxPeerUnidirectionalStreams concurrent uni streams a client may open (HTTP/3 needs 3)
 * @param allowClientMigration whether a connection may follow its client to a new address (NAT
 *     rebinding, client migration); see docs/migration.md for which packets move a connection
 * @param clientTrust when set, every client must present a certificate that this accepts (mutual
 *     TLS); null for none. Engines without client authentication refuse to bind with it.
 * @param eventLoopThreads 0: the engine's usual threading; n above 0: n UDP sockets on the same
 *     port (SO_REUSEPORT), each with an event-loop thread of its own, connections routed to their
 *     socket's thread by connection ID. Engines that cannot refuse to bind with it.
 */
public record ServerEndpointOptions(
    InetSocketAddress bindAddress,
    String applicationProtocol,
    KeyStore keyStore,
    String keyAlias,
    char[] keyPassword,
    Duration idleTimeout,
    long streamReceiveWindow,
    long connectionReceiveWindow,
    int maxPeerBidirectionalStreams,
    int maxPeerUnidirectionalStreams,
    boolean allowClientMigration,
    javax.net.ssl.X509TrustManager clientTrust,
    int eventLoopThreads) {

  /** Options with the engine's usual threading. */
  public ServerEndpointOptions(InetSocketAddress bindAddress, String applicationProtocol,
      KeyStore keyStore, String keyAlias, char[] keyPassword, Duration idleTimeout,
      long streamReceiveWindow, long connectionReceiveWindow, int maxPeerBidirectionalStreams,
      int maxPeerUnidirectionalStreams, boolean allowClientMigration,
      javax.net.ssl.X509TrustManager clientTrust) {
    this(bindAddress, applicationProtocol, keyStore, keyAlias, keyPassword, idleTimeout,
        streamReceiveWindow, connectionReceiveWindow, maxPeerBidirectionalStreams,
        maxPeerUnidirectionalStreams, allowClientMigration, clientTrust, 0);
  }

  /** Options without client authentication. */
  public ServerEndpointOptions(InetSocketAddress bindAddress, String applicationProtocol,
      KeyStore keyStore, String keyAlias, char[] keyPassword, Duration idleTimeout,
      long streamReceiveWindow, long connectionReceiveWindow, int maxPeerBidirectionalStreams,
      int maxPeerUnidirectionalStreams, boolean allowClientMigration) {
    this(bindAddress, applicationProtocol, keyStore, keyAlias, keyPassword, idleTimeout,
        streamReceiveWindow, connectionReceiveWindow, maxPeerBidirectionalStreams,
        maxPeerUnidirectionalStreams, allowClientMigration, null);
  }

  /** Options with client migration allowed. */
  public ServerEndpointOptions(InetSocketAddress bindAddress, String applicationProtocol,
      KeyStore keyStore, String keyAlias, char[] keyPassword, Duration idleTimeout,
      long streamReceiveWindow, long connectionReceiveWindow, int maxPeerBidirectionalStreams,
      int maxPeerUnidirectionalStreams) {
    this(bindAddress, applicationProtocol, keyStore, keyAlias, keyPassword, idleTimeout,
        streamReceiveWindow, connectionReceiveWindow, maxPeerBidirectionalStreams,
        maxPeerUnidirectionalStreams, true);
  }
}
