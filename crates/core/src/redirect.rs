//! Where the server may send a browser (SPEC §7 `redirect_to`, §4 authorize-application callbacks,
//! and every later redirect): decided by parsing with a URL parser and comparing origins, never by
//! looking at the string. Owns: same-site targets (`redirect_to`) and third-party callbacks.
//! Invariant: what comes back is the parser's own serialization of the URL that was checked, so
//! a browser cannot read it differently (a TAB, a backslash or a second slash is resolved here
//! exactly as a browser resolves it, before the origin is compared). Pure.

use url::Url;

/// Characters a redirect target never legitimately holds: every ASCII control character
/// (including TAB, CR and LF, which browsers strip silently) and DEL.
fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// `target` (a path or an absolute URL) resolved against `base` (the site's URL), if it stays
/// on `base`'s origin. Returns the absolute URL to send in `Location`.
pub fn same_origin(target: &str, base: &str) -> Option<String> {
    let t = target.trim_matches(' ');
    if t.is_empty() || has_control(t) {
        return None;
    }
    let base = Url::parse(base).ok()?;
    if !matches!(base.scheme(), "http" | "https") {
        return None;
    }
    let resolved = base.join(t).ok()?;
    if resolved.origin() != base.origin()
        || !resolved.username().is_empty()
        || resolved.password().is_some()
    {
        return None;
    }
    Some(resolved.to_string())
}

/// A third-party callback (WordPress's `success_url`/`reject_url`; later OAuth redirect URIs have
/// their own registration rules): absolute, https — or http on a loopback host (RFC 8252 §7.3) —
/// with no credentials and no control characters. Returns the parsed URL; send its serialization.
pub fn callback(u: &str) -> Option<Url> {
    if has_control(u) {
        return None;
    }
    let p = Url::parse(u.trim_matches(' ')).ok()?;
    if !p.username().is_empty() || p.password().is_some() {
        return None;
    }
    let ok = match p.scheme() {
        "https" => p.host_str().is_some(),
        "http" => match p.host()? {
            url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
            url::Host::Ipv4(a) => a.is_loopback(),
            url::Host::Ipv6(a) => a.is_loopback(),
        },
        _ => false,
    };
    ok.then_some(p)
}

/// The host a browser will be sent to (shown to the person before they approve).
pub fn display_host(u: &Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:8080";

    #[test]
    fn paths_and_same_origin_urls_are_kept() {
        assert_eq!(
            same_origin("/profile", BASE).as_deref(),
            Some("http://127.0.0.1:8080/profile")
        );
        assert_eq!(
            same_origin("/wp-admin/authorize-application.php?app_name=a%20b", BASE).as_deref(),
            Some("http://127.0.0.1:8080/wp-admin/authorize-application.php?app_name=a%20b")
        );
        assert_eq!(
            same_origin("http://127.0.0.1:8080/admin", BASE).as_deref(),
            Some("http://127.0.0.1:8080/admin")
        );
    }

    #[test]
    fn anything_that_leaves_the_origin_is_refused() {
        for evil in [
            "//evil.example/x",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example/phish",
            "/\n/evil.example",
            "/\r/evil.example",
            "\t//evil.example",
            "/\u{0}/evil.example",
            "/\u{b}/evil.example",
            "/\u{c}/evil.example",
            "/\u{7f}/evil.example",
            "https://evil.example/",
            "http://127.0.0.1:8081/",
            "https://127.0.0.1:8080/",
            "http://user@127.0.0.1:8080/",
            "http://:pw@127.0.0.1:8080/",
            "http://127.0.0.1:8080@evil.example/",
            "javascript:alert(1)",
            "data:text/html,x",
            "",
            "   ",
        ] {
            assert_eq!(same_origin(evil, BASE), None, "{evil:?}");
        }
    }

    #[test]
    fn callbacks_need_https_or_loopback() {
        assert!(callback("https://app.example/cb").is_some());
        assert!(callback("http://127.0.0.1:9000/cb").is_some());
        assert!(callback("http://127.8.0.1/cb").is_some());
        assert!(callback("http://[::1]:9000/cb").is_some());
        assert!(callback("http://localhost/cb").is_some());
        assert!(callback("http://app.example/cb").is_none());
        assert!(callback("http://localhost.evil.example/cb").is_none());
        assert!(callback("https://user:pw@app.example/cb").is_none());
        assert!(callback("https://user@app.example/cb").is_none());
        assert!(callback("https://:pw@app.example/cb").is_none());
        assert_eq!(
            display_host(&callback("https://App.Example/cb").unwrap()),
            "app.example"
        );
        assert!(callback("https://app.example/\tcb").is_none());
        assert!(callback("javascript:alert(1)").is_none());
        assert!(callback("/relative").is_none());
        let u = callback("https://collector.evil.example:8443/grab").unwrap();
        assert_eq!(display_host(&u), "collector.evil.example:8443");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the target, an accepted redirect parses back to the base's origin.
        #[test]
        fn accepted_targets_stay_on_the_origin(t in "[ -~\t\n\r\\\\/]{0,40}") {
            if let Some(out) = same_origin(&t, "https://blog.example") {
                let u = Url::parse(&out).unwrap();
                prop_assert_eq!(u.origin().ascii_serialization(), "https://blog.example");
                prop_assert!(!has_control(&out));
            }
        }
    }
}
