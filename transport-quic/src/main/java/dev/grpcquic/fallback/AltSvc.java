package dev.grpcquic.fallback;

import io.grpc.Metadata;
import java.time.Duration;
import java.util.Locale;

/**
 * The HTTP Alternative Services header (RFC 7838) as far as HTTP/3 needs it (RFC 9114 section
 * 3.1.1): {@code alt-svc: h3=":443"; ma=86400}. Only alternatives on the same host are used; an
 * alternative that names another host is ignored (its certificate check would need that host).
 */
public final class AltSvc {
  /** The response header. gRPC response headers are HTTP/2 response headers, so it is metadata. */
  public static final Metadata.Key<String> HEADER =
      Metadata.Key.of("alt-svc", Metadata.ASCII_STRING_MARSHALLER);
  /** RFC 7838 section 3: without {@code ma}, an alternative is fresh for 24 hours. */
  public static final Duration DEFAULT_MAX_AGE = Duration.ofHours(24);

  /** An advertised HTTP/3 endpoint: a UDP port on the same host, fresh for {@code maxAge}. */
  public record H3(int port, Duration maxAge) {}

  /** What one header value says about HTTP/3. */
  public sealed interface Advice permits Offered, Cleared, Silent {}

  /** HTTP/3 is offered. */
  public record Offered(H3 h3) implements Advice {}

  /** {@code clear}: forget every alternative of this origin. */
  public record Cleared() implements Advice {}

  /** The value names no usable HTTP/3 alternative. */
  public record Silent() implements Advice {}

  private AltSvc() {}

  /** The header value that offers HTTP/3 on {@code port} for {@code maxAge}. */
  public static String h3(int port, Duration maxAge) {
    return "h3=\":" + port + "\"; ma=" + maxAge.toSeconds();
  }

  /**
   * Reads a header value: a comma-separated list of {@code protocol-id="[host]:port"} with
   * parameters, or {@code clear}. Takes the first {@code h3} alternative on the same host.
   */
  public static Advice parse(String value) {
    if (value == null) {
      return new Silent();
    }
    String trimmed = value.trim();
    if (trimmed.equalsIgnoreCase("clear")) {
      return new Cleared();
    }
    for (String entry : splitOutsideQuotes(trimmed, ',')) {
      String[] parts = splitOutsideQuotes(entry, ';').toArray(new String[0]);
      if (parts.length == 0) {
        continue;
      }
      int eq = parts[0].indexOf('=');
      if (eq < 0 || !parts[0].substring(0, eq).trim().equals("h3")) {
        continue;
      }
      String authority = unquote(parts[0].substring(eq + 1).trim());
      int colon = authority.lastIndexOf(':');
      if (colon != 0) {
        continue; // another host (or no port): not for us
      }
      int port;
      try {
        port = Integer.parseInt(authority.substring(1));
      } catch (NumberFormatException e) {
        continue;
      }
      if (port <= 0 || port > 65535) {
        continue;
      }
      Duration maxAge = DEFAULT_MAX_AGE;
      for (int i = 1; i < parts.length; i++) {
        String param = parts[i].trim();
        int peq = param.indexOf('=');
        if (peq > 0 && param.substring(0, peq).trim().toLowerCase(Locale.ROOT).equals("ma")) {
          try {
            maxAge = Duration.ofSeconds(Long.parseLong(unquote(param.substring(peq + 1).trim())));
          } catch (NumberFormatException e) {
            // RFC 7838: an invalid parameter leaves the default
          }
        }
      }
      return new Offered(new H3(port, maxAge));
    }
    return new Silent();
  }

  private static String unquote(String s) {
    if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
      return s.substring(1, s.length() - 1);
    }
    return s;
  }

  private static java.util.List<String> splitOutsideQuotes(String s, char separator) {
    java.util.List<String> out = new java.util.ArrayList<>();
    boolean quoted = false;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"') {
        quoted = !quoted;
      } else if (c == separator && !quoted) {
        out.add(s.substring(start, i).trim());
        start = i + 1;
      }
    }
    out.add(s.substring(start).trim());
    return out;
  }
}
