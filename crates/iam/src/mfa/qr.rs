//! The QR code `CreateVirtualMFADevice` returns as `QRCodePNG`: the device's
//! `otpauth://` key URI as a QR code (the `qrcode` crate builds the module
//! matrix), written as a PNG here (1-bit grayscale, one zlib-compressed IDAT).
//!
//! INVARIANT: the image and the URI hold the seed; they are only ever handed
//! to the one response that returns the seed anyway, never logged or stored.

use std::io::Write as _;

use qrcode::{Color, EcLevel, QrCode};

/// Pixels per QR module: a version 5-7 code (the usual URI length) comes out
/// at about 300 pixels square, easy to scan from a screen.
const SCALE: usize = 6;
/// Light modules around the code, as ISO/IEC 18004 requires.
const QUIET: usize = 4;
/// The issuer authenticator apps show next to the label.
const ISSUER: &str = "Rampart";

/// Why no image could be made.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// The URI does not fit in a QR code.
    #[error("the key URI does not fit in a QR code: {0}")]
    Encode(String),
    /// Compressing the image failed.
    #[error("compressing the QR code image failed: {0}")]
    Compress(#[from] std::io::Error),
}

/// The key URI of a virtual MFA device, in the form AWS documents for
/// `QRCodePNG`: `otpauth://totp/$virtualMFADeviceName@$AccountName?secret=$Base32String`,
/// plus `&issuer=Rampart` (Google Authenticator's key-URI format) so apps
/// say where the code is for. Label parts are percent-encoded, so an `@` in
/// a device name cannot be mistaken for the separator.
pub fn key_uri(device_name: &str, account_name: &str, base32_seed: &str) -> String {
    format!(
        "otpauth://totp/{}@{}?secret={}&issuer={ISSUER}",
        percent_encode(device_name),
        percent_encode(account_name),
        percent_encode(base32_seed),
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `text` as a QR code (error correction level M) in a PNG image.
pub fn png(text: &str) -> Result<Vec<u8>, QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| QrError::Encode(e.to_string()))?;
    let modules = code.width();
    let dark = code.to_colors();
    let is_dark = |x: usize, y: usize| {
        x.checked_sub(QUIET)
            .zip(y.checked_sub(QUIET))
            .filter(|(x, y)| *x < modules && *y < modules)
            .and_then(|(x, y)| dark.get(y * modules + x))
            .is_some_and(|c| *c == Color::Dark)
    };
    let side_modules = modules + 2 * QUIET;
    let side = side_modules * SCALE;
    // One row of pixels: a filter byte (0, none), then 1 bit per pixel,
    // most significant first; 0 is black in grayscale.
    let row_bytes = side.div_ceil(8);
    let mut raw = Vec::with_capacity((row_bytes + 1) * side);
    for my in 0..side_modules {
        let mut row = vec![0xffu8; row_bytes];
        for mx in 0..side_modules {
            if !is_dark(mx, my) {
                continue;
            }
            for px in mx * SCALE..(mx + 1) * SCALE {
                if let Some(byte) = row.get_mut(px / 8) {
                    *byte &= !(0x80 >> (px % 8));
                }
            }
        }
        for _ in 0..SCALE {
            raw.push(0);
            raw.extend_from_slice(&row);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&raw)?;
    let idat = z.finish()?;

    let side32 = u32::try_from(side).map_err(|_| QrError::Encode("image too large".into()))?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&side32.to_be_bytes());
    ihdr.extend_from_slice(&side32.to_be_bytes());
    // Bit depth 1, colour type 0 (grayscale), deflate, adaptive filtering,
    // no interlace.
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]);

    let mut out = Vec::with_capacity(idat.len() + 64);
    out.extend_from_slice(PNG_SIGNATURE);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

/// The eight bytes every PNG file starts with.
const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Appends a PNG chunk: length, type, data, CRC-32 of type and data.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // INVARIANT: chunks here are far below 2^31 bytes (the largest QR code is
    // 177 modules: under 2 MB of raw pixels before compression).
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    /// The chunks of a PNG, checking the signature and every CRC.
    fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
        assert_eq!(&png[..8], PNG_SIGNATURE);
        let mut at = 8;
        let mut out = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind: [u8; 4] = png[at + 4..at + 8].try_into().unwrap();
            let data = png[at + 8..at + 8 + len].to_vec();
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            let mut h = crc32fast::Hasher::new();
            h.update(&kind);
            h.update(&data);
            assert_eq!(
                h.finalize(),
                crc,
                "CRC of {}",
                String::from_utf8_lossy(&kind)
            );
            out.push((kind, data));
            at += 12 + len;
        }
        assert_eq!(at, png.len());
        out
    }

    #[test]
    fn png_has_valid_chunks_and_the_code_s_modules_as_pixels() {
        let uri = key_uri("phone", "111122223333", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
        let png = png(&uri).unwrap();
        let chunks = chunks(&png);
        let kinds: Vec<&[u8; 4]> = chunks.iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [b"IHDR", b"IDAT", b"IEND"]);

        let ihdr = &chunks[0].1;
        let w = u32::from_be_bytes(ihdr[0..4].try_into().unwrap()) as usize;
        let h = u32::from_be_bytes(ihdr[4..8].try_into().unwrap()) as usize;
        assert_eq!(&ihdr[8..], &[1, 0, 0, 0, 0]);
        let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M).unwrap();
        let modules = code.width();
        assert_eq!((w, h), ((modules + 8) * SCALE, (modules + 8) * SCALE));

        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&chunks[1].1[..])
            .read_to_end(&mut raw)
            .unwrap();
        let row_bytes = w.div_ceil(8);
        assert_eq!(raw.len(), h * (row_bytes + 1));
        let black = |x: usize, y: usize| {
            let row = &raw[y * (row_bytes + 1)..(y + 1) * (row_bytes + 1)];
            assert_eq!(row[0], 0, "filter type");
            row[1 + x / 8] & (0x80 >> (x % 8)) == 0
        };
        let colors = code.to_colors();
        for y in 0..h {
            for x in 0..w {
                let (mx, my) = (x / SCALE, y / SCALE);
                let dark = (QUIET..QUIET + modules).contains(&mx)
                    && (QUIET..QUIET + modules).contains(&my)
                    && colors[(my - QUIET) * modules + mx - QUIET] == Color::Dark;
                assert_eq!(black(x, y), dark, "pixel {x},{y}");
            }
        }
        // The top-left finder pattern's corner is black, the quiet zone white.
        assert!(black(QUIET * SCALE, QUIET * SCALE));
        assert!(!black(0, 0));
    }

    #[test]
    fn key_uri_follows_aws_form_and_escapes_the_label() {
        assert_eq!(
            key_uri("phone", "alice", "ABC234"),
            "otpauth://totp/phone@alice?secret=ABC234&issuer=Rampart"
        );
        assert_eq!(
            key_uri("a@b+c", "111122223333", "ABC"),
            "otpauth://totp/a%40b%2Bc@111122223333?secret=ABC&issuer=Rampart"
        );
    }

    #[test]
    fn longest_device_name_still_fits() {
        let name = "d".repeat(226);
        let png = png(&key_uri(&name, &"u".repeat(64), &"A".repeat(32))).unwrap();
        assert!(png.len() > 100);
    }
}
