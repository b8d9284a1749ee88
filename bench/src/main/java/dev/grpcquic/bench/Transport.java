package dev.grpcquic.bench;

/** The gRPC transports compared. The raw engines are measured apart ({@link RawEngineBench}). */
public enum Transport {
  /** This project: gRPC over HTTP/3 over QUIC (kwik), TLS 1.3. */
  QUIC("QUIC (grpc-quic)"),
  /** This project on its second engine: quiche through Netty's QUIC codec. */
  QUIC_QUICHE("QUIC on quiche (grpc-quic)"),
  /**
   * The same with quiche's BBR (BBRv2) instead of CUBIC, on both ends: the congestion controller
   * to set against TCP's BBR on lossy paths. Not in the default list.
   */
  QUIC_QUICHE_BBR("QUIC on quiche, BBR (grpc-quic)"),
  /** grpc-java Netty, HTTP/2 over TCP with TLS 1.3 (JDK provider): the baseline of every ratio. */
  NETTY_TLS("Netty TCP+TLS"),
  /** grpc-java Netty, HTTP/2 over TCP in plaintext (h2c): a reference without encryption. */
  NETTY_H2C("Netty h2c");

  final String label;

  Transport(String label) {
    this.label = label;
  }

  /** The label without "(grpc-quic)": table cells and ratio headers ("QUIC on quiche"). */
  String shortLabel() {
    return label.replace(" (grpc-quic)", "");
  }
}
