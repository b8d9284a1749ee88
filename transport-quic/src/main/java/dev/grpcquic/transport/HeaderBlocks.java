package dev.grpcquic.transport;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.http3.Http3Exception;
import io.grpc.InternalMetadata;
import io.grpc.Metadata;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.TransportFrameUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts between gRPC {@link Metadata} and HTTP/3 field lists, and builds the request, response
 * and trailer field sections of PROTOCOL-HTTP2 (which gRPC over HTTP/3 keeps as they are).
 */
final class HeaderBlocks {
  static final String STATUS = ":status";
  static final String METHOD = ":method";
  static final String SCHEME = ":scheme";
  static final String PATH = ":path";
  static final String AUTHORITY = ":authority";

  private HeaderBlocks() {}

  /** The request's field section: pseudo-headers first, then gRPC's fixed headers, then metadata. */
  static List<Header> request(String authority, String path, String userAgent, Metadata metadata) {
    List<Header> fields = new ArrayList<>();
    fields.add(new Header(METHOD, GrpcUtil.HTTP_METHOD));
    fields.add(new Header(SCHEME, "https"));
    fields.add(new Header(PATH, path));
    fields.add(new Header(AUTHORITY, authority));
    fields.add(new Header(GrpcUtil.CONTENT_TYPE_KEY.name(), GrpcUtil.CONTENT_TYPE_GRPC));
    fields.add(new Header(GrpcUtil.TE_HEADER.name(), GrpcUtil.TE_TRAILERS));
    if (userAgent != null) {
      fields.add(new Header(GrpcUtil.USER_AGENT_KEY.name(), userAgent));
    }
    appendMetadata(fields, metadata, true);
    return fields;
  }

  /** Response headers: :status 200, content-type, then the application's metadata. */
  static List<Header> responseHeaders(Metadata metadata) {
    List<Header> fields = new ArrayList<>();
    fields.add(new Header(STATUS, "200"));
    fields.add(new Header(GrpcUtil.CONTENT_TYPE_KEY.name(), GrpcUtil.CONTENT_TYPE_GRPC));
    appendMetadata(fields, metadata, false);
    return fields;
  }

  /**
   * Trailers (which already hold grpc-status and grpc-message); a Trailers-Only response also
   * carries :status and content-type.
   */
  static List<Header> trailers(Metadata trailers, boolean trailersOnly) {
    List<Header> fields = new ArrayList<>();
    if (trailersOnly) {
      fields.add(new Header(STATUS, "200"));
      fields.add(new Header(GrpcUtil.CONTENT_TYPE_KEY.name(), GrpcUtil.CONTENT_TYPE_GRPC));
    }
    appendMetadata(fields, trailers, false);
    return fields;
  }

  /** A Trailers-Only response for a request that never reached gRPC (HTTP error). */
  static List<Header> httpError(int httpStatus, io.grpc.Status.Code code, String message) {
    Metadata trailers = new Metadata();
    trailers.put(io.grpc.InternalStatus.CODE_KEY, io.grpc.Status.fromCode(code));
    trailers.put(io.grpc.InternalStatus.MESSAGE_KEY, message);
    List<Header> fields = new ArrayList<>();
    fields.add(new Header(STATUS, Integer.toString(httpStatus)));
    fields.add(new Header(GrpcUtil.CONTENT_TYPE_KEY.name(), GrpcUtil.CONTENT_TYPE_GRPC));
    appendMetadata(fields, trailers, false);
    return fields;
  }

  /**
   * Field list to Metadata (base64 of -bin values decoded by grpc-core). Pseudo-headers are kept
   * only when asked: the client's stream state reads :status from the Metadata. A -bin value that
   * is not base64 makes the message malformed: a stream error H3_MESSAGE_ERROR (grpc-core's decoder
   * would otherwise throw IllegalArgumentException into the engine's thread).
   */
  static Metadata toMetadata(List<Header> fields, boolean keepPseudoHeaders) throws Http3Exception {
    List<byte[]> namesAndValues = new ArrayList<>(fields.size() * 2);
    for (Header field : fields) {
      if (!keepPseudoHeaders && field.name().startsWith(":")) {
        continue;
      }
      namesAndValues.add(field.name().getBytes(ISO_8859_1));
      namesAndValues.add(field.value().getBytes(ISO_8859_1));
    }
    byte[][] serialized;
    try {
      serialized = TransportFrameUtil.toRawSerializedHeaders(namesAndValues.toArray(new byte[0][]));
    } catch (IllegalArgumentException e) {
      throw Http3Exception.stream(Http3ErrorCode.H3_MESSAGE_ERROR,
          "binary header value is not base64: " + e.getMessage());
    }
    return InternalMetadata.newMetadata(serialized);
  }

  /** The first value of a field, or null. */
  static String get(List<Header> fields, String name) {
    for (Header field : fields) {
      if (field.name().equals(name)) {
        return field.value();
      }
    }
    return null;
  }

  /** RFC 9114 §4.2.2's measure: name plus value plus 32 per field. */
  static long size(List<Header> fields) {
    long size = 0;
    for (Header field : fields) {
      size += field.name().length() + field.value().length() + 32;
    }
    return size;
  }

  /**
   * Whether a field name is valid in HTTP/3: an RFC 9110 token (after the ':' of a pseudo-header)
   * in lowercase (RFC 9114 §4.2, §10.3), and not a connection-specific field.
   */
  static boolean isValidName(String name) {
    int start = name.startsWith(":") ? 1 : 0;
    if (name.length() == start) {
      return false;
    }
    for (int i = start; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean tchar = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!tchar) {
        return false;
      }
    }
    switch (name) {
      case "connection":
      case "keep-alive":
      case "proxy-connection":
      case "transfer-encoding":
      case "upgrade":
        return false;
      default:
        return true;
    }
  }

  /** Whether a field value is acceptable: no NUL, CR or LF (RFC 9110 §5.5, RFC 9114 §10.3). */
  static boolean isValidValue(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == 0 || c == '\r' || c == '\n') {
        return false;
      }
    }
    return true;
  }

  private static void appendMetadata(List<Header> fields, Metadata metadata, boolean request) {
    byte[][] serialized = TransportFrameUtil.toHttp2Headers(metadata);
    for (int i = 0; i < serialized.length; i += 2) {
      String name = new String(serialized[i], US_ASCII);
      // The transport owns these; an application's copy would duplicate or contradict them.
      if (isReserved(name, request)) {
        continue;
      }
      fields.add(new Header(name, new String(serialized[i + 1], ISO_8859_1)));
    }
  }

  private static boolean isReserved(String name, boolean request) {
    if (name.startsWith(":")) {
      return true;
    }
    if (name.equals(GrpcUtil.CONTENT_TYPE_KEY.name())) {
      return true;
    }
    return request
        && (name.equals(GrpcUtil.TE_HEADER.name()) || name.equals(GrpcUtil.USER_AGENT_KEY.name()));
  }
}
