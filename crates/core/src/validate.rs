//! Input rules for the identity model (SPEC §1): logins, emails and site URLs. Owns the rules
//! and their messages, which the CLI prints and the APIs return. Pure.

use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// WordPress's `sanitize_user(…, strict)`: letters, digits, space, `_ . - @`, 1–60 characters.
pub fn login(s: &str) -> Result<String, Invalid> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 60 {
        return Err(Invalid("login must be 1 to 60 characters".into()));
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '.' | '-' | '@'))
    {
        return Err(Invalid(format!(
            "login {t:?} may only contain letters, digits, spaces and _ . - @"
        )));
    }
    Ok(t.to_string())
}

/// A plausible address: one `@`, a non-empty local part, a domain with no spaces.
pub fn email(s: &str) -> Result<String, Invalid> {
    let t = s.trim();
    let bad = || Invalid(format!("{t:?} is not a valid email address"));
    let (local, domain) = t.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || t.len() > 254
        || t.chars().any(|c| c.is_whitespace() || c.is_control())
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(t.to_string())
}

/// A site URL: http(s), a host, no credentials, query or fragment, and no path beyond `/`.
/// Returns the canonical URL (no trailing slash) and its lower-case `host[:port]`.
pub fn site_url(s: &str) -> Result<(String, String), Invalid> {
    let u = Url::parse(s.trim()).map_err(|e| Invalid(format!("{s:?} is not a valid URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(Invalid(format!("site URL {s:?} must be http or https")));
    }
    let host = u
        .host_str()
        .ok_or_else(|| Invalid(format!("site URL {s:?} has no host")))?
        .to_ascii_lowercase();
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Invalid("site URL must not contain credentials".into()));
    }
    // One spelling per host, so host-based site choice and uniqueness cannot be sidestepped:
    // no trailing dot (`a.example.` is `a.example`), and a real port.
    if host.ends_with('.') || u.port() == Some(0) {
        return Err(Invalid(format!(
            "site URL {s:?} needs a host without a trailing dot and a port other than 0"
        )));
    }
    // DNS limits (RFC 1035 §2.3.4): 253 characters, labels of at most 63.
    if host.len() > 253 || host.split('.').any(|l| l.len() > 63) {
        return Err(Invalid(format!(
            "site URL host is too long (at most 253 characters, labels of at most 63): {}…",
            host.chars().take(40).collect::<String>()
        )));
    }
    if u.query().is_some() || u.fragment().is_some() || (u.path() != "/" && !u.path().is_empty()) {
        return Err(Invalid(format!(
            "site URL {s:?} must be a bare origin (no path, query or fragment)"
        )));
    }
    let authority = match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    };
    Ok((format!("{}://{}", u.scheme(), authority), authority))
}

/// A password for a new account: 8 to 1024 characters.
pub fn new_password(s: &str) -> Result<(), Invalid> {
    let n = s.chars().count();
    if n < 8 {
        return Err(Invalid("password must be at least 8 characters".into()));
    }
    if n > 1024 {
        return Err(Invalid("password must be at most 1024 characters".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins() {
        assert_eq!(login(" alice ").unwrap(), "alice");
        assert!(login("").is_err());
        assert!(login("a<b").is_err());
        assert!(login(&"x".repeat(61)).is_err());
    }

    #[test]
    fn emails() {
        assert!(email("a@example.com").is_ok());
        assert!(email("a@localhost").is_ok());
        assert!(email("nope").is_err());
        assert!(email("a@b@c").is_err());
        assert!(email("a b@c.d").is_err());
    }

    #[test]
    fn site_hosts_fit_dns_limits() {
        let label = "a".repeat(63);
        let ok = format!("https://{label}.example");
        assert!(site_url(&ok).is_ok());
        assert!(site_url(&format!("https://{label}a.example")).is_err());
        let long = vec!["abcdefghij"; 25].join(".");
        assert!(long.len() > 253);
        assert!(site_url(&format!("http://{long}")).is_err());
        assert!(site_url(&format!("http://{}", &long[..252])).is_ok());
        assert!(site_url("http://a.example.").is_err(), "trailing dot");
        assert!(site_url("http://a.example:0").is_err(), "port 0");
        assert!(site_url("http://a.example:8080").is_ok());
    }

    #[test]
    fn site_urls_are_bare_origins() {
        assert_eq!(
            site_url("https://Blog.Example/").unwrap(),
            ("https://blog.example".into(), "blog.example".into())
        );
        assert_eq!(
            site_url("http://127.0.0.1:8080").unwrap(),
            ("http://127.0.0.1:8080".into(), "127.0.0.1:8080".into())
        );
        assert!(site_url("ftp://x").is_err());
        assert!(site_url("https://x.example/blog").is_err());
        assert!(site_url("https://u:p@x.example").is_err());
        assert!(site_url("not a url").is_err());
    }
}
