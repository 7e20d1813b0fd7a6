//! The AWS Query protocol (IAM, STS): form-encoded parameters in, XML out.

use std::collections::BTreeMap;

use rampart_iam::api::Node;

/// Decodes an `application/x-www-form-urlencoded` body (also a query string).
pub fn parse_form(body: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for pair in body.split(|b| *b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (
                pair.get(..i).unwrap_or_default(),
                pair.get(i + 1..).unwrap_or_default(),
            ),
            None => (pair, &[][..]),
        };
        out.insert(decode(k), decode(v));
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => match (
                s.get(i + 1).copied().and_then(hex),
                s.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes text for XML content.
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

fn write_nodes(nodes: &[Node], out: &mut String) {
    for n in nodes {
        match n {
            Node::Leaf(name, text) => {
                out.push('<');
                out.push_str(name);
                out.push('>');
                escape(text, out);
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
            Node::Branch(name, children) => {
                out.push('<');
                out.push_str(name);
                out.push('>');
                write_nodes(children, out);
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
        }
    }
}

/// `<{Action}Response xmlns=…><{Action}Result>…</…><ResponseMetadata>…`.
pub fn success(action: &str, namespace: &str, result: &[Node], request_id: &str) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(&format!("<{action}Response xmlns=\"{namespace}\">"));
    if result.is_empty() {
        out.push_str(&format!("<{action}Result/>"));
    } else {
        out.push_str(&format!("<{action}Result>"));
        write_nodes(result, &mut out);
        out.push_str(&format!("</{action}Result>"));
    }
    out.push_str("<ResponseMetadata><RequestId>");
    escape(request_id, &mut out);
    out.push_str(&format!(
        "</RequestId></ResponseMetadata></{action}Response>"
    ));
    out
}

/// IAM/STS's error document.
pub fn error(namespace: &str, sender: bool, code: &str, message: &str, request_id: &str) -> String {
    let mut out = format!("<ErrorResponse xmlns=\"{namespace}\"><Error><Type>");
    out.push_str(if sender { "Sender" } else { "Receiver" });
    out.push_str("</Type><Code>");
    escape(code, &mut out);
    out.push_str("</Code><Message>");
    escape(message, &mut out);
    out.push_str("</Message></Error><RequestId>");
    escape(request_id, &mut out);
    out.push_str("</RequestId></ErrorResponse>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_handles_plus_percent_and_members() {
        let f =
            parse_form(b"Action=CreateUser&UserName=bob%2B1&Tags.member.1.Key=a+b&Empty=&Bad=%zz");
        assert_eq!(f["Action"], "CreateUser");
        assert_eq!(f["UserName"], "bob+1");
        assert_eq!(f["Tags.member.1.Key"], "a b");
        assert_eq!(f["Empty"], "");
        assert_eq!(f["Bad"], "%zz");
    }

    #[test]
    fn xml_escapes_text() {
        let x = success(
            "GetUser",
            "ns",
            &[Node::Leaf("A".into(), "<&>".into())],
            "r",
        );
        assert!(x.contains("<A>&lt;&amp;&gt;</A>"));
        assert!(x.starts_with("<GetUserResponse xmlns=\"ns\"><GetUserResult>"));
    }
}
