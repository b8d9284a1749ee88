package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.grpcquic.http3.Header;
import dev.grpcquic.http3.Http3ErrorCode;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** G2's error-code table both ways, and the header conversions around it. */
@Timeout(10)
class Http3ErrorsTest {

  @Test
  void httpThreeCodesToStatus() {
    assertEquals(Status.Code.INTERNAL, Http3Errors.statusForCode(Http3ErrorCode.H3_NO_ERROR).getCode());
    assertEquals(Status.Code.RESOURCE_EXHAUSTED,
        Http3Errors.statusForCode(Http3ErrorCode.H3_EXCESSIVE_LOAD).getCode());
    assertEquals(Status.Code.UNAVAILABLE,
        Http3Errors.statusForCode(Http3ErrorCode.H3_REQUEST_REJECTED).getCode());
    assertEquals(Status.Code.CANCELLED,
        Http3Errors.statusForCode(Http3ErrorCode.H3_REQUEST_CANCELLED).getCode());
    assertEquals(Status.Code.INTERNAL,
        Http3Errors.statusForCode(Http3ErrorCode.H3_FRAME_ERROR).getCode());
    assertEquals(Status.Code.INTERNAL, Http3Errors.statusForCode(0x1234).getCode());
    // kwik hides reset codes: a server reset reads as the server cancelling.
    assertEquals(Status.Code.CANCELLED, Http3Errors.statusForServerReset(-1).getCode());
  }

  @Test
  void statusToHttpThreeCodes() {
    assertEquals(Http3ErrorCode.H3_EXCESSIVE_LOAD,
        Http3Errors.codeForStatus(Status.RESOURCE_EXHAUSTED));
    assertEquals(Http3ErrorCode.H3_REQUEST_REJECTED, Http3Errors.codeForStatus(Status.UNAVAILABLE));
    assertEquals(Http3ErrorCode.H3_REQUEST_CANCELLED, Http3Errors.codeForStatus(Status.CANCELLED));
    assertEquals(Http3ErrorCode.H3_REQUEST_CANCELLED,
        Http3Errors.codeForStatus(Status.DEADLINE_EXCEEDED));
    assertEquals(Http3ErrorCode.H3_INTERNAL_ERROR, Http3Errors.codeForStatus(Status.INTERNAL));
  }

  @Test
  void requestHeadersCarryTransportFieldsOnceAndMetadataAfter() {
    Metadata metadata = new Metadata();
    metadata.put(Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER), "app's own");
    metadata.put(Metadata.Key.of("x-trace", Metadata.ASCII_STRING_MARSHALLER), "abc");
    List<Header> fields = HeaderBlocks.request("svc.example:443", "/pkg.S/M", "grpc-java-quic/1",
        metadata);
    assertEquals(new Header(":method", "POST"), fields.get(0));
    assertEquals("https", HeaderBlocks.get(fields, ":scheme"));
    assertEquals("svc.example:443", HeaderBlocks.get(fields, ":authority"));
    assertEquals("trailers", HeaderBlocks.get(fields, "te"));
    assertEquals("grpc-java-quic/1", HeaderBlocks.get(fields, "user-agent"));
    assertEquals(1, fields.stream().filter(f -> f.name().equals("user-agent")).count());
    assertEquals("abc", HeaderBlocks.get(fields, "x-trace"));
  }

  @Test
  void binaryMetadataIsUnpaddedBase64OnTheWireAndBothFormsDecode() throws Exception {
    Metadata.Key<byte[]> key = Metadata.Key.of("x-data-bin", Metadata.BINARY_BYTE_MARSHALLER);
    Metadata metadata = new Metadata();
    metadata.put(key, new byte[] {(byte) 0xff, 0x00, 0x7f, 0x10});
    String wire = HeaderBlocks.get(HeaderBlocks.responseHeaders(metadata), "x-data-bin");
    assertEquals("/wB/EA", wire);
    for (String form : List.of("/wB/EA", "/wB/EA==")) {
      Metadata decoded = HeaderBlocks.toMetadata(List.of(new Header("x-data-bin", form)), false);
      assertArrayEquals(new byte[] {(byte) 0xff, 0x00, 0x7f, 0x10}, decoded.get(key));
    }
  }

  @Test
  void pseudoHeadersStayOutOfServerMetadata() throws Exception {
    Metadata decoded = HeaderBlocks.toMetadata(List.of(new Header(":path", "/a/b"),
        new Header("x-k", "v")), false);
    assertFalse(decoded.keys().contains(":path"));
    assertEquals("v", decoded.get(Metadata.Key.of("x-k", Metadata.ASCII_STRING_MARSHALLER)));
  }

  @Test
  void invalidFieldNames() {
    assertFalse(HeaderBlocks.isValidName("X-Upper"));
    assertFalse(HeaderBlocks.isValidName("connection"));
    assertFalse(HeaderBlocks.isValidName("bad name"));
    assertFalse(HeaderBlocks.isValidName(""));
  }
}
