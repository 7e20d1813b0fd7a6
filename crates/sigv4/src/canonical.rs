//! The canonical request and the string to sign, written once for two sinks: a `String` (for
//! tests and diagnostics) and a SHA-256 hasher (for verification, so no canonical request is
//! ever materialised on the request path).
//!
//! References: "Create a canonical request" in the IAM user guide (Signature Version 4), and
//! AWS's signing test suite (`tests/vectors/`), which pins every rule below byte for byte.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};
use sha2::digest::Update;

/// Bytes left as they are by SigV4's URI encoding: RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`). Everything else, `/` inside a segment and `%` included, becomes
/// `%XY` with upper-case hex.
const SIGV4_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where canonical text goes.
pub(crate) trait Sink {
    fn put(&mut self, s: &str);
}

impl Sink for String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

/// A `Sink` for a hash or MAC that gathers the small pieces it is given (a canonical request
/// comes in some fifty, most a few bytes long) in a buffer on the stack and hands the hasher
/// whole buffers: an `update` call per piece costs far more than copying the piece. Nothing is
/// allocated.
pub(crate) struct Buffered<D> {
    inner: D,
    buf: [u8; BUFFERED],
    len: usize,
}

/// Bytes gathered before an `update`: a multiple of SHA-256's 64-byte block, and enough for
/// the whole canonical request of a typical DynamoDB call (~300 bytes).
const BUFFERED: usize = 512;

impl<D: Update> Buffered<D> {
    pub(crate) fn new(inner: D) -> Self {
        Self {
            inner,
            buf: [0; BUFFERED],
            len: 0,
        }
    }

    fn flush(&mut self) {
        self.inner
            .update(self.buf.get(..self.len).unwrap_or_default());
        self.len = 0;
    }

    /// The hasher, having been given every byte put so far.
    pub(crate) fn into_inner(mut self) -> D {
        self.flush();
        self.inner
    }
}

impl<D: Update> Sink for Buffered<D> {
    fn put(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let end = self.len.saturating_add(bytes.len());
        if let Some(room) = self.buf.get_mut(self.len..end) {
            room.copy_from_slice(bytes);
            self.len = end;
            return;
        }
        self.flush();
        if let Some(room) = self.buf.get_mut(..bytes.len()) {
            room.copy_from_slice(bytes);
            self.len = bytes.len();
        } else {
            // Larger than the buffer: straight to the hasher.
            self.inner.update(bytes);
        }
    }
}

/// Writes the canonical URI of a raw (percent-encoded, as received) request path.
///
/// AWS quirk: every service but S3 normalizes the path (RFC 3986 dot-segment removal, and
/// empty segments dropped, so `//` becomes `/`) and then URI-encodes each segment. Because the
/// path arrives already encoded, this is the "encode twice" rule of the SigV4 docs: a `%20` on
/// the wire is `%2520` in the canonical URI, exactly what botocore computes
/// (`quote(normalize_url_path(path), safe='/~')`). The algorithm below is botocore's
/// `remove_dot_segments`, which the `get-slash*`/`get-relative*` vectors pin.
pub(crate) fn write_canonical_uri(path: &str, out: &mut impl Sink) {
    if path.is_empty() || path == "/" {
        out.put("/");
        return;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    if path.starts_with('/') {
        out.put("/");
    }
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            out.put("/");
        }
        for chunk in percent_encode(segment.as_bytes(), SIGV4_ENCODE) {
            out.put(chunk);
        }
    }
    if path.ends_with('/') && !segments.is_empty() {
        out.put("/");
    }
}

/// Decodes one query-string key or value the way AWS's signers read it: `+` is a space
/// (botocore parses the query with `parse_qsl`), `%XY` is a byte, and a malformed escape stays
/// literal (and so is re-encoded as `%25...`). Borrowed when there is nothing to decode.
pub(crate) fn decode_query_component(raw: &str) -> Cow<'_, [u8]> {
    if raw.contains('+') {
        let spaced = raw.replace('+', " ");
        Cow::Owned(percent_decode(spaced.as_bytes()).collect())
    } else {
        percent_decode(raw.as_bytes()).into()
    }
}

/// The `key=value` pairs of a raw query string, decoded, in order. Empty pieces (`a=1&&b=2`)
/// are skipped; a piece without `=` is a key with an empty value.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
}

/// Which query parameters a presigned request leaves out of its canonical query string.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Unsigned {
    /// None: a header-signed request signs its whole query.
    Nothing,
    /// `X-Amz-Signature` (it cannot sign itself).
    Signature,
    /// `X-Amz-Signature` and `X-Amz-Security-Token`, for a token appended after signing.
    SignatureAndToken,
}

/// Writes the canonical query string: every parameter decoded then URI-encoded, sorted by
/// encoded key then encoded value, joined with `&`, less the parameters `unsigned` names.
pub(crate) fn write_canonical_query(query: &str, unsigned: Unsigned, out: &mut impl Sink) {
    if query.is_empty() {
        return;
    }
    let mut pairs: Vec<(String, String)> = query_pairs(query)
        .filter_map(|(k, v)| {
            let key = decode_query_component(k);
            let left_out = match unsigned {
                Unsigned::Nothing => false,
                Unsigned::Signature => *key == *b"X-Amz-Signature",
                Unsigned::SignatureAndToken => {
                    *key == *b"X-Amz-Signature" || *key == *b"X-Amz-Security-Token"
                }
            };
            if left_out {
                return None;
            }
            let value = decode_query_component(v);
            Some((
                percent_encode(&key, SIGV4_ENCODE).to_string(),
                percent_encode(&value, SIGV4_ENCODE).to_string(),
            ))
        })
        .collect();
    pairs.sort_unstable();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.put("&");
        }
        out.put(key);
        out.put("=");
        out.put(value);
    }
}

/// Writes a header value trimmed, with every inner run of whitespace (spaces, tabs, and the
/// line breaks of an obsolete folded header) as one space: "Trim any leading or trailing
/// spaces, and convert sequential spaces to a single space" (SigV4 docs); the
/// `get-header-value-trim` and `get-header-value-multiline` vectors pin it.
pub(crate) fn write_header_value(value: &str, out: &mut impl Sink) {
    for (i, word) in ByteRuns::new(value, |b: u8| b.is_ascii_whitespace()).enumerate() {
        if i > 0 {
            out.put(" ");
        }
        out.put(word);
    }
}

/// The non-empty runs of `text` between separator bytes, found byte by byte (a `char`
/// predicate decodes UTF-8 for every character; this compares bytes). Generic over the
/// predicate so that it is inlined into the scanning loops.
///
/// `is_separator` must only accept ASCII bytes: then every run starts and ends on a character
/// boundary, and `str::get` never refuses one.
#[derive(Clone)]
pub(crate) struct ByteRuns<'s, P> {
    rest: &'s str,
    is_separator: P,
}

impl<'s, P: Fn(u8) -> bool> ByteRuns<'s, P> {
    pub(crate) fn new(text: &'s str, is_separator: P) -> Self {
        Self {
            rest: text,
            is_separator,
        }
    }
}

impl<'s, P: Fn(u8) -> bool> Iterator for ByteRuns<'s, P> {
    type Item = &'s str;

    fn next(&mut self) -> Option<&'s str> {
        let start = self.rest.bytes().position(|b| !(self.is_separator)(b))?;
        let tail = self.rest.get(start..).unwrap_or_default();
        let len = tail
            .bytes()
            .position(|b| (self.is_separator)(b))
            .unwrap_or(tail.len());
        let (run, rest) = tail.split_at_checked(len)?;
        self.rest = rest;
        Some(run)
    }
}

/// The pieces of `text` between `separator` bytes, empty ones included, like `str::split`
/// but comparing bytes (`str::split` with a `char` sets up a `memchr` per piece, which costs
/// more than the few bytes of a header name). `separator` must be ASCII, so every piece lies on
/// character boundaries.
pub(crate) fn split_byte(text: &str, separator: u8) -> SplitByte<'_> {
    SplitByte {
        rest: Some(text),
        separator,
    }
}

/// See [`split_byte`].
#[derive(Clone)]
pub(crate) struct SplitByte<'s> {
    rest: Option<&'s str>,
    separator: u8,
}

impl<'s> Iterator for SplitByte<'s> {
    type Item = &'s str;

    fn next(&mut self) -> Option<&'s str> {
        let rest = self.rest?;
        match rest.bytes().position(|b| b == self.separator) {
            Some(i) => {
                self.rest = rest.get(i.saturating_add(1)..);
                rest.get(..i)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Writes the canonical-headers block and the signed-headers line of the canonical request,
/// for the header names in `signed` (`;`-separated, as the client listed them). Repeated
/// headers are joined with `,` in the order received (`get-header-key-duplicate`,
/// `get-header-value-order`).
pub(crate) fn write_headers<H: crate::Header>(headers: &[H], signed: &str, out: &mut impl Sink) {
    for name in split_byte(signed, b';') {
        out.put(name);
        out.put(":");
        let mut first = true;
        for h in headers
            .iter()
            .filter(|h| h.name().eq_ignore_ascii_case(name))
        {
            if !first {
                out.put(",");
            }
            write_header_value(h.value(), out);
            first = false;
        }
        out.put("\n");
    }
    out.put("\n");
    // The names joined with `;`: the list exactly as sent.
    out.put(signed);
    out.put("\n");
}

/// The pieces of the canonical request that do not come from `SignedRequest` directly.
pub(crate) struct CanonicalParts<'a> {
    pub(crate) unsigned: Unsigned,
    /// The signed header names, `;`-separated, as the client listed them.
    pub(crate) signed_headers: &'a str,
    /// Lower-case hex SHA-256 of the body.
    pub(crate) payload_hash: &'a str,
}

/// Writes the whole canonical request.
pub(crate) fn write_canonical_request<H: crate::Header>(
    req: &crate::SignedRequest<'_, H>,
    parts: &CanonicalParts<'_>,
    out: &mut impl Sink,
) {
    out.put(req.method);
    out.put("\n");
    write_canonical_uri(req.path, out);
    out.put("\n");
    write_canonical_query(req.query, parts.unsigned, out);
    out.put("\n");
    write_headers(req.headers, parts.signed_headers, out);
    out.put(parts.payload_hash);
}

/// Writes the string to sign, given the hex SHA-256 of the canonical request.
pub(crate) fn write_string_to_sign(
    amz_date: &str,
    scope: &str,
    canonical_request_sha256_hex: &str,
    out: &mut impl Sink,
) {
    out.put(crate::ALGORITHM);
    out.put("\n");
    out.put(amz_date);
    out.put("\n");
    out.put(scope);
    out.put("\n");
    out.put(canonical_request_sha256_hex);
}

/// Lower-case hex of a SHA-256 digest, without allocating.
pub(crate) fn hex32(digest: &[u8; 32]) -> HexBuf {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digit = |nibble: u8| {
        DIGITS
            .get(usize::from(nibble & 0x0f))
            .copied()
            .unwrap_or(b'0')
    };
    let mut buf = [0u8; 64];
    for (pair, byte) in buf.chunks_exact_mut(2).zip(digest) {
        if let [high, low] = pair {
            *high = digit(byte >> 4);
            *low = digit(*byte);
        }
    }
    HexBuf(buf)
}

/// 64 ASCII hex digits on the stack.
pub(crate) struct HexBuf([u8; 64]);

impl HexBuf {
    pub(crate) fn as_str(&self) -> &str {
        // INVARIANT: only ASCII hex digits are ever written into the buffer.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(path: &str) -> String {
        let mut s = String::new();
        write_canonical_uri(path, &mut s);
        s
    }

    fn query(q: &str, presigned: bool) -> String {
        let mut s = String::new();
        let unsigned = if presigned {
            Unsigned::Signature
        } else {
            Unsigned::Nothing
        };
        write_canonical_query(q, unsigned, &mut s);
        s
    }

    fn value(v: &str) -> String {
        let mut s = String::new();
        write_header_value(v, &mut s);
        s
    }

    #[test]
    fn path_dot_segments_are_removed_and_slashes_merged() {
        assert_eq!(uri(""), "/");
        assert_eq!(uri("/"), "/");
        assert_eq!(uri("//"), "/");
        assert_eq!(uri("/./"), "/");
        assert_eq!(uri("/example/.."), "/");
        assert_eq!(uri("/example1/example2/../.."), "/");
        assert_eq!(uri("/./example"), "/example");
        assert_eq!(uri("//example//"), "/example/");
        assert_eq!(uri("/a/../../b"), "/b");
        assert_eq!(uri("/a/b/."), "/a/b");
    }

    #[test]
    fn path_segments_are_encoded_once_over_the_wire_form() {
        assert_eq!(uri("/example space/"), "/example%20space/");
        assert_eq!(uri("/ሴ"), "/%E1%88%B4");
        // Already encoded on the wire: encoded again, as botocore signs it.
        assert_eq!(uri("/example%20space"), "/example%2520space");
        assert_eq!(uri("/-._~AZaz09"), "/-._~AZaz09");
        assert_eq!(uri("/a:b@c"), "/a%3Ab%40c");
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        assert_eq!(query("", false), "");
        assert_eq!(
            query("Param2=value2&Param1=value1", false),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(
            query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1", false),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(query("ሴ=bar", false), "%E1%88%B4=bar");
        assert_eq!(query("b=2&a=2&a=1", false), "a=1&a=2&b=2");
        assert_eq!(query("a", false), "a=");
        assert_eq!(query("a=1&&b=", false), "a=1&b=");
        assert_eq!(query("a=x+y&b=%2B", false), "a=x%20y&b=%2B");
        assert_eq!(query("a=%zz&b=%4", false), "a=%25zz&b=%254");
    }

    #[test]
    fn presigned_signature_parameter_is_left_out() {
        assert_eq!(
            query("X-Amz-Signature=abc&X-Amz-Date=1&a=b", true),
            "X-Amz-Date=1&a=b"
        );
        assert_eq!(
            query("X-Amz-Signature=abc&a=b", false),
            "X-Amz-Signature=abc&a=b"
        );
    }

    #[test]
    fn an_appended_session_token_can_be_left_out() {
        let mut s = String::new();
        write_canonical_query(
            "X-Amz-Security-Token=t&X-Amz-Signature=abc&a=b",
            Unsigned::SignatureAndToken,
            &mut s,
        );
        assert_eq!(s, "a=b");
    }

    #[test]
    fn header_values_are_trimmed_and_inner_spaces_collapsed() {
        assert_eq!(value(" value1"), "value1");
        assert_eq!(value("\"a   b   c\""), "\"a b c\"");
        assert_eq!(
            value("value1\n  value2\n     value3"),
            "value1 value2 value3"
        );
        assert_eq!(value("\t a \t b \t"), "a b");
        assert_eq!(value("   "), "");
    }

    proptest::proptest! {
        #[test]
        fn header_value_words_split_like_the_char_predicate_did(
            v in proptest::prop_oneof![
                proptest::arbitrary::any::<String>(),
                "[a-z \t\r\n\u{b}\u{c}\u{a0}\u{85}éሴ]{0,24}",
            ]
        ) {
            // The splitting `write_header_value` did before it went byte-wise.
            let reference = v
                .split(|c: char| c.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            proptest::prop_assert_eq!(value(&v), reference);
        }
    }

    #[test]
    fn repeated_headers_are_joined_with_commas_in_order() {
        let headers = vec![
            ("My-Header1".to_string(), "value4".to_string()),
            ("Host".to_string(), "h".to_string()),
            ("my-header1".to_string(), " value1 ".to_string()),
        ];
        let mut s = String::new();
        write_headers(&headers, "host;my-header1", &mut s);
        assert_eq!(s, "host:h\nmy-header1:value4,value1\n\nhost;my-header1\n");
    }

    proptest::proptest! {
        #[test]
        fn buffered_hashing_hashes_the_pieces_concatenated(
            pieces in proptest::collection::vec(".{0,700}", 0..12)
        ) {
            use sha2::{Digest as _, Sha256};
            let mut buffered = Buffered::new(Sha256::new());
            for piece in &pieces {
                buffered.put(piece);
            }
            proptest::prop_assert_eq!(
                buffered.into_inner().finalize(),
                Sha256::digest(pieces.concat().as_bytes())
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn split_byte_splits_like_str_split(text in "[a-z;éሴ]{0,16}|.{0,16}") {
            let reference: Vec<&str> = text.split(';').collect();
            proptest::prop_assert_eq!(split_byte(&text, b';').collect::<Vec<_>>(), reference);
        }
    }

    #[test]
    fn hex32_is_lower_case() {
        let h = hex32(&[0xAB; 32]);
        assert_eq!(h.as_str(), "ab".repeat(32));
        let bytes: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37));
        assert_eq!(hex32(&bytes).as_str(), hex::encode(bytes));
    }
}
