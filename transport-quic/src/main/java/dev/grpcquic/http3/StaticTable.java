package dev.grpcquic.http3;

import java.util.HashMap;
import java.util.Map;

/** The QPACK static table (RFC 9204 Appendix A), 99 entries indexed from 0. */
final class StaticTable {

  static final Header[] ENTRIES = {
    h(":authority", ""),
    h(":path", "/"),
    h("age", "0"),
    h("content-disposition", ""),
    h("content-length", "0"),
    h("cookie", ""),
    h("date", ""),
    h("etag", ""),
    h("if-modified-since", ""),
    h("if-none-match", ""),
    h("last-modified", ""),
    h("link", ""),
    h("location", ""),
    h("referer", ""),
    h("set-cookie", ""),
    h(":method", "CONNECT"),
    h(":method", "DELETE"),
    h(":method", "GET"),
    h(":method", "HEAD"),
    h(":method", "OPTIONS"),
    h(":method", "POST"),
    h(":method", "PUT"),
    h(":scheme", "http"),
    h(":scheme", "https"),
    h(":status", "103"),
    h(":status", "200"),
    h(":status", "304"),
    h(":status", "404"),
    h(":status", "503"),
    h("accept", "*/*"),
    h("accept", "application/dns-message"),
    h("accept-encoding", "gzip, deflate, br"),
    h("accept-ranges", "bytes"),
    h("access-control-allow-headers", "cache-control"),
    h("access-control-allow-headers", "content-type"),
    h("access-control-allow-origin", "*"),
    h("cache-control", "max-age=0"),
    h("cache-control", "max-age=2592000"),
    h("cache-control", "max-age=604800"),
    h("cache-control", "no-cache"),
    h("cache-control", "no-store"),
    h("cache-control", "public, max-age=31536000"),
    h("content-encoding", "br"),
    h("content-encoding", "gzip"),
    h("content-type", "application/dns-message"),
    h("content-type", "application/javascript"),
    h("content-type", "application/json"),
    h("content-type", "application/x-www-form-urlencoded"),
    h("content-type", "image/gif"),
    h("content-type", "image/jpeg"),
    h("content-type", "image/png"),
    h("content-type", "text/css"),
    h("content-type", "text/html; charset=utf-8"),
    h("content-type", "text/plain"),
    h("content-type", "text/plain;charset=utf-8"),
    h("range", "bytes=0-"),
    h("strict-transport-security", "max-age=31536000"),
    h("strict-transport-security", "max-age=31536000; includesubdomains"),
    h("strict-transport-security", "max-age=31536000; includesubdomains; preload"),
    h("vary", "accept-encoding"),
    h("vary", "origin"),
    h("x-content-type-options", "nosniff"),
    h("x-xss-protection", "1; mode=block"),
    h(":status", "100"),
    h(":status", "204"),
    h(":status", "206"),
    h(":status", "302"),
    h(":status", "400"),
    h(":status", "403"),
    h(":status", "421"),
    h(":status", "425"),
    h(":status", "500"),
    h("accept-language", ""),
    h("access-control-allow-credentials", "FALSE"),
    h("access-control-allow-credentials", "TRUE"),
    h("access-control-allow-headers", "*"),
    h("access-control-allow-methods", "get"),
    h("access-control-allow-methods", "get, post, options"),
    h("access-control-allow-methods", "options"),
    h("access-control-expose-headers", "content-length"),
    h("access-control-request-headers", "content-type"),
    h("access-control-request-method", "get"),
    h("access-control-request-method", "post"),
    h("alt-svc", "clear"),
    h("authorization", ""),
    h("content-security-policy", "script-src 'none'; object-src 'none'; base-uri 'none'"),
    h("early-data", "1"),
    h("expect-ct", ""),
    h("forwarded", ""),
    h("if-range", ""),
    h("origin", ""),
    h("purpose", "prefetch"),
    h("server", ""),
    h("timing-allow-origin", "*"),
    h("upgrade-insecure-requests", "1"),
    h("user-agent", ""),
    h("x-forwarded-for", ""),
    h("x-frame-options", "deny"),
    h("x-frame-options", "sameorigin"),
  };

  private static final Map<Header, Integer> EXACT = new HashMap<>();
  private static final Map<String, Integer> BY_NAME = new HashMap<>();

  static {
    for (int i = 0; i < ENTRIES.length; i++) {
      EXACT.putIfAbsent(ENTRIES[i], i);
      BY_NAME.putIfAbsent(ENTRIES[i].name(), i);
    }
  }

  private StaticTable() {}

  /** Index of the entry equal to {@code field}, or -1. */
  static int indexOf(Header field) {
    return EXACT.getOrDefault(field, -1);
  }

  /** Index of the first entry with this name, or -1. */
  static int nameIndexOf(String name) {
    return BY_NAME.getOrDefault(name, -1);
  }

  private static Header h(String name, String value) {
    return new Header(name, value);
  }
}
