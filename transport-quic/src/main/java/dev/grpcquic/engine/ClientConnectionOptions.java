package dev.grpcquic.engine;

import java.time.Duration;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509TrustManager;

/**
 * What a client connection needs.
 *
 * @param host host to connect to (name or literal address)
 * @param port UDP port
 * @param serverName name to send in SNI and to check the certificate against
 * @param applicationProtocol ALPN, "h3"
 * @param trustManager checks the server's certificate; null means no check at all (insecure)
 * @param connectTimeout handshake time limit
 * @param idleTimeout QUIC max_idle_timeout
 * @param streamReceiveWindow initial flow-control window of each stream
 * @param connectionReceiveWindow initial flow-control window of the connection
 * @param maxPeerUnidirectionalStreams how many uni streams the server may open (HTTP/3 needs 3)
 * @param keepAliveSeconds PING interval while idle, 0 for none
 * @param clientKeyManager the client's certificate, offered when a server asks; null for none
 * @param quietPathProbe with request streams open and nothing received for this long, send a
 *     PING (finds the server again after a NAT rebinding); zero for none
 * @param sessionTicket a ticket from an earlier connection to the same server (as handed to
 *     {@link ConnectionHandler#onSessionTicket}), to resume with; null for a full handshake
 * @param keyLogFile where to append the connection's TLS secrets in NSS key log format (for
 *     Wireshark); null for none, the default
 */
public record ClientConnectionOptions(
    String host,
    int port,
    String serverName,
    String applicationProtocol,
    X509TrustManager trustManager,
    Duration connectTimeout,
    Duration idleTimeout,
    long streamReceiveWindow,
    long connectionReceiveWindow,
    int maxPeerUnidirectionalStreams,
    int keepAliveSeconds,
    X509ExtendedKeyManager clientKeyManager,
    Duration quietPathProbe,
    byte[] sessionTicket,
    java.nio.file.Path keyLogFile) {

  /** Options without a key log. */
  public ClientConnectionOptions(String host, int port, String serverName,
      String applicationProtocol, X509TrustManager trustManager, Duration connectTimeout,
      Duration idleTimeout, long streamReceiveWindow, long connectionReceiveWindow,
      int maxPeerUnidirectionalStreams, int keepAliveSeconds,
      X509ExtendedKeyManager clientKeyManager, Duration quietPathProbe, byte[] sessionTicket) {
    this(host, port, serverName, applicationProtocol, trustManager, connectTimeout, idleTimeout,
        streamReceiveWindow, connectionReceiveWindow, maxPeerUnidirectionalStreams,
        keepAliveSeconds, clientKeyManager, quietPathProbe, sessionTicket, null);
  }

  /** Options without a session ticket. */
  public ClientConnectionOptions(String host, int port, String serverName,
      String applicationProtocol, X509TrustManager trustManager, Duration connectTimeout,
      Duration idleTimeout, long streamReceiveWindow, long connectionReceiveWindow,
      int maxPeerUnidirectionalStreams, int keepAliveSeconds,
      X509ExtendedKeyManager clientKeyManager, Duration quietPathProbe) {
    this(host, port, serverName, applicationProtocol, trustManager, connectTimeout, idleTimeout,
        streamReceiveWindow, connectionReceiveWindow, maxPeerUnidirectionalStreams,
        keepAliveSeconds, clientKeyManager, quietPathProbe, null);
  }

  /** Options without a client certificate and without the quiet-path probe. */
  public ClientConnectionOptions(String host, int port, String serverName,
      String applicationProtocol, X509TrustManager trustManager, Duration connectTimeout,
      Duration idleTimeout, long streamReceiveWindow, long connectionReceiveWindow,
      int maxPeerUnidirectionalStreams, int keepAliveSeconds) {
    this(host, port, serverName, applicationProtocol, trustManager, connectTimeout, idleTimeout,
        streamReceiveWindow, connectionReceiveWindow, maxPeerUnidirectionalStreams,
        keepAliveSeconds, null, Duration.ZERO, null);
  }
}
