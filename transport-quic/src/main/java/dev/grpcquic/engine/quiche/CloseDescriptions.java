package dev.grpcquic.engine.quiche;

import io.netty.handler.codec.quic.QuicConnectionCloseEvent;
import java.nio.charset.StandardCharsets;

/** Readable names for the codes of a peer's CONNECTION_CLOSE (RFC 9000 §20, RFC 8446 §6). */
final class CloseDescriptions {
  private CloseDescriptions() {}

  static String describe(QuicConnectionCloseEvent event) {
    String reason = new String(event.reason(), StandardCharsets.UTF_8);
    String code;
    if (event.isApplicationClose()) {
      code = "application error 0x" + Integer.toHexString(event.error());
    } else if (event.isTlsError()) {
      int alert = QuicConnectionCloseEvent.extractTlsError(event.error());
      code = "CRYPTO_ERROR (TLS alert " + alert + " " + tlsAlert(alert) + ")";
    } else {
      code = transportError(event.error());
    }
    return code + (reason.isEmpty() ? "" : ": " + reason);
  }

  static String transportError(int code) {
    switch (code) {
      case 0x0: return "NO_ERROR";
      case 0x1: return "INTERNAL_ERROR";
      case 0x2: return "CONNECTION_REFUSED";
      case 0x3: return "FLOW_CONTROL_ERROR";
      case 0x4: return "STREAM_LIMIT_ERROR";
      case 0x5: return "STREAM_STATE_ERROR";
      case 0x6: return "FINAL_SIZE_ERROR";
      case 0x7: return "FRAME_ENCODING_ERROR";
      case 0x8: return "TRANSPORT_PARAMETER_ERROR";
      case 0x9: return "CONNECTION_ID_LIMIT_ERROR";
      case 0xa: return "PROTOCOL_VIOLATION";
      case 0xb: return "INVALID_TOKEN";
      case 0xd: return "CRYPTO_BUFFER_EXCEEDED";
      case 0xe: return "KEY_UPDATE_ERROR";
      case 0xf: return "AEAD_LIMIT_REACHED";
      case 0x10: return "NO_VIABLE_PATH";
      default: return "transport error 0x" + Integer.toHexString(code);
    }
  }

  static String tlsAlert(int alert) {
    switch (alert) {
      case 40: return "handshake_failure";
      case 42: return "bad_certificate";
      case 43: return "unsupported_certificate";
      case 44: return "certificate_revoked";
      case 45: return "certificate_expired";
      case 46: return "certificate_unknown";
      case 48: return "unknown_ca";
      case 80: return "internal_error";
      case 112: return "unrecognized_name";
      case 116: return "certificate_required";
      case 120: return "no_application_protocol";
      default: return "alert";
    }
  }
}
