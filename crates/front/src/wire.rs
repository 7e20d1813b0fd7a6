//! Wire helpers for the AWS JSON protocols: request body decoding
//! (Content-Encoding gzip/deflate, size limits) and response encoding
//! (CRC32 header, optional gzip).

use std::io::Read;

use bytes::Bytes;
use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

/// The largest request body DynamoDB accepts (and the largest a compressed
/// body may inflate to): 16 MB, the BatchWriteItem ceiling.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// The body could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Larger than [`MAX_BODY`] (after decompression).
    TooLarge,
    /// Compressed data that does not inflate.
    BadEncoding,
    /// A Content-Encoding other than gzip, deflate or identity.
    UnsupportedEncoding,
}

/// Undoes `Content-Encoding` (gzip, deflate, identity), refusing bodies that
/// inflate beyond [`MAX_BODY`].
pub fn decode_body(headers: &HeaderMap, body: Bytes) -> Result<Bytes, BodyError> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match encoding.as_str() {
        "" | "identity" => Ok(body),
        "gzip" | "x-gzip" => inflate(GzDecoder::new(&body[..])),
        // HTTP's "deflate" is zlib-wrapped; some clients send raw deflate.
        "deflate" => inflate(ZlibDecoder::new(&body[..]))
            .or_else(|_| inflate(DeflateDecoder::new(&body[..]))),
        _ => Err(BodyError::UnsupportedEncoding),
    }
}

fn inflate(reader: impl Read) -> Result<Bytes, BodyError> {
    let mut out = Vec::new();
    let limit = u64::try_from(MAX_BODY).unwrap_or(u64::MAX) + 1;
    reader
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|_| BodyError::BadEncoding)?;
    if out.len() > MAX_BODY {
        return Err(BodyError::TooLarge);
    }
    Ok(Bytes::from(out))
}

/// Whether the client accepts a gzip-encoded response.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or("").trim();
            let q_zero = it.any(|p| {
                let p = p.trim();
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            name.eq_ignore_ascii_case("gzip") && !q_zero
        })
}

/// Builds a JSON response with DynamoDB's headers: `x-amzn-RequestId`,
/// `x-amz-crc32` (CRC32 of the bytes on the wire, which is what botocore
/// checks: it reads the raw, undecoded body), content type, and gzip when
/// the client asked for it.
pub fn json_response(
    status: StatusCode,
    content_type: &'static str,
    request_id: &str,
    body: Vec<u8>,
    gzip: bool,
) -> Response<Full<Bytes>> {
    let (body, encoded) = if gzip {
        match compress(&body) {
            Some(z) => (z, true),
            None => (body, false),
        }
    } else {
        (body, false)
    };
    let crc = crc32fast::hash(&body);
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    h.insert("x-amz-crc32", HeaderValue::from(crc));
    if encoded {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

fn compress(body: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(body).ok()?;
    enc.finish().ok()
}

/// An XML response of a Query-protocol service.
pub fn xml_response(status: StatusCode, request_id: &str, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

/// A plain-text response (health checks and the like).
pub fn text_response(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn gzip_and_deflate_bodies_are_inflated() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"a\":1}").unwrap();
        let gz = gz.finish().unwrap();
        let out = decode_body(&headers(&[("content-encoding", "gzip")]), Bytes::from(gz)).unwrap();
        assert_eq!(&out[..], b"{\"a\":1}");
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"{}").unwrap();
        let z = z.finish().unwrap();
        let out =
            decode_body(&headers(&[("content-encoding", "deflate")]), Bytes::from(z)).unwrap();
        assert_eq!(&out[..], b"{}");
    }

    #[test]
    fn bad_or_unknown_encodings_are_refused() {
        assert_eq!(
            decode_body(
                &headers(&[("content-encoding", "gzip")]),
                Bytes::from_static(b"nope")
            ),
            Err(BodyError::BadEncoding)
        );
        assert_eq!(
            decode_body(
                &headers(&[("content-encoding", "br")]),
                Bytes::from_static(b"x")
            ),
            Err(BodyError::UnsupportedEncoding)
        );
    }

    #[test]
    fn a_gzip_bomb_is_refused_as_too_large() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..17 {
            gz.write_all(&zeros).unwrap();
        }
        let gz = gz.finish().unwrap();
        assert_eq!(
            decode_body(&headers(&[("content-encoding", "gzip")]), Bytes::from(gz)),
            Err(BodyError::TooLarge)
        );
    }

    #[test]
    fn accept_encoding_is_parsed_with_q_values() {
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "gzip, deflate"
        )])));
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "deflate, GZIP;q=0.5"
        )])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "identity")])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn crc32_header_matches_body_on_the_wire() {
        let r = json_response(
            StatusCode::OK,
            "application/x-amz-json-1.0",
            "RID",
            b"{}".to_vec(),
            false,
        );
        assert_eq!(
            r.headers()["x-amz-crc32"],
            crc32fast::hash(b"{}").to_string().as_str()
        );
        assert_eq!(r.headers()["x-amzn-requestid"], "RID");
    }
}
