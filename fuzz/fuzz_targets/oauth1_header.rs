//! Arbitrary bytes through the OAuth 1.0a header parser, the protocol-parameter check and the
//! base-string builder (RFC 5849 §3.4.1, §3.5.1): never a panic, and the base string stays within
//! a small multiple of the input. The input is split at the first newline: the header's text,
//! then a query string / form body.
#![no_main]

use gatehouse_core::oauth1::signature::{base_string, base_uri, form_pairs, parse_header, RequestParams};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (header, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let params = RequestParams {
        header: parse_header(header).unwrap_or_default(),
        query: form_pairs(rest),
        body: form_pairs(header),
    };
    let _ = params.protocol();
    let path = rest.split(['?', '#']).next().unwrap_or("/");
    if let Some(uri) = base_uri("https://example.com", path) {
        let base = base_string("POST", &uri, &params);
        assert!(base.len() <= 9 * (2 * text.len() + uri.len()) + 64);
    }
});
