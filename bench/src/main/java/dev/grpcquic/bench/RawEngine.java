package dev.grpcquic.bench;

import dev.grpcquic.engine.QuicClientEngine;
import dev.grpcquic.engine.QuicServerEngine;
import dev.grpcquic.engine.kwik.KwikClientEngine;
import dev.grpcquic.engine.kwik.KwikServerEndpoint;
import dev.grpcquic.engine.quiche.QuicheClientEngine;
import dev.grpcquic.engine.quiche.QuicheServerEngine;
import dev.grpcquic.engine.quiche.QuicheSettings;
import java.util.Locale;

/**
 * The QUIC engines measured bare ({@link RawEngineBench}): each is the floor under one gRPC
 * transport, which runs the same engine with HTTP/3 and gRPC on top.
 */
enum RawEngine {
  KWIK(Transport.QUIC, "QUIC v1, TLS 1.3 (kwik), no HTTP/3"),
  /** With the settings {@code QuicEngines.quiche()} gives the gRPC transport (CUBIC). */
  QUICHE(Transport.QUIC_QUICHE, "QUIC v1, TLS 1.3 (quiche, BoringSSL), no HTTP/3");

  /** The gRPC transport that sits on this engine. */
  final Transport floorOf;
  final String security;

  RawEngine(Transport floorOf, String security) {
    this.floorOf = floorOf;
    this.security = security;
  }

  /** "raw kwik": progress lines and ratio columns. */
  String shortLabel() {
    return "raw " + name().toLowerCase(Locale.ROOT);
  }

  /** "raw kwik engine": table columns and chart categories. */
  String label() {
    return shortLabel() + " engine";
  }

  /** "RAW_KWIK": the key in the JSON results, in {@code --only} and in ServerMain's ports line. */
  String key() {
    return "RAW_" + name();
  }

  QuicClientEngine clientEngine() {
    return this == KWIK ? new KwikClientEngine() : new QuicheClientEngine(QuicheSettings.DEFAULT);
  }

  QuicServerEngine serverEngine() {
    return this == KWIK ? KwikServerEndpoint::start
        : new QuicheServerEngine(QuicheSettings.DEFAULT);
  }

  /** The raw engine under {@code transport}, or null (Netty's transports have none). */
  static RawEngine under(Transport transport) {
    for (RawEngine e : values()) {
      if (e.floorOf == transport) {
        return e;
      }
    }
    return null;
  }

  /** The engine whose {@link #key()} is {@code key} (any case), or null. */
  static RawEngine byKey(String key) {
    for (RawEngine e : values()) {
      if (e.key().equalsIgnoreCase(key.trim())) {
        return e;
      }
    }
    return null;
  }
}
