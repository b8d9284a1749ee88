package dev.grpcquic.fallback;

/** The two ways a "QUIC preferred" channel reaches a server, named by their ALPN identifiers. */
enum WireProtocol {
  /** HTTP/3 over QUIC. */
  H3("h3"),
  /** HTTP/2 over TCP + TLS. */
  H2("h2");

  final String alpn;

  WireProtocol(String alpn) {
    this.alpn = alpn;
  }
}
