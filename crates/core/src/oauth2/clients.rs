//! Registering a client (SPEC §3): its name, type, redirect URIs and grants, and the rules that
//! make a registration safe. Redirect URIs are absolute, without a fragment, https — or http on a
//! loopback host (`127.0.0.1`, `[::1]`, `localhost`; RFC 8252 §7.3) — and are compared as parsed
//! URLs, never as strings: exactly, except that a loopback redirect URI matches on any port.
//! Pure.

use super::{GrantType, ACCESS_TTL_SECS};
use crate::admin::AdminError;
use crate::credentials::MAX_EXPIRES_IN_SECS;
use url::Url;

/// What a client registration asks for, as typed (CLI flags, the developer page, the JSON API).
#[derive(Debug, Clone, Default)]
pub struct ClientSpec {
    pub name: String,
    pub description: String,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    /// Grant names; empty = the default (`authorization_code refresh_token`).
    pub grants: Vec<String>,
    /// Shorthand for adding the `implicit` grant.
    pub allow_implicit: bool,
    /// Access-token lifetime in seconds; `None` = one hour; `Some(0)` = until revoked.
    pub token_ttl: Option<i64>,
    /// A resource server that may introspect every client's tokens (set by an operator).
    pub introspect_any: bool,
}

/// A registration that passed the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidClient {
    pub introspect_any: bool,
    pub name: String,
    pub description: String,
    pub confidential: bool,
    pub redirect_uris: Vec<String>,
    pub grants: Vec<GrantType>,
    pub access_ttl: i64,
}

/// Most redirect URIs one client may register.
pub const MAX_REDIRECT_URIS: usize = 20;
/// Longest redirect URI accepted.
pub const MAX_REDIRECT_URI_LEN: usize = 2000;

fn invalid(m: impl Into<String>) -> AdminError {
    AdminError::Invalid(m.into())
}

/// Checks a registration against SPEC §3.
pub fn validate(spec: &ClientSpec) -> Result<ValidClient, AdminError> {
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.contains(char::is_control) {
        return Err(invalid("a client name must be 1 to 200 characters"));
    }
    let description = spec.description.trim();
    if description.chars().count() > 1000 {
        return Err(invalid("a client description is at most 1000 characters"));
    }
    let mut grants: Vec<GrantType> = Vec::new();
    for g in spec
        .grants
        .iter()
        .flat_map(|g| g.split([',', ' ']))
        .filter(|g| !g.is_empty())
    {
        let grant = GrantType::parse(g).ok_or_else(|| {
            invalid(format!(
                "unknown grant {g:?}; the grants are {}",
                GrantType::ALL.map(GrantType::as_str).join(", ")
            ))
        })?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    if grants.is_empty() {
        grants = GrantType::DEFAULT.to_vec();
    }
    if spec.allow_implicit && !grants.contains(&GrantType::Implicit) {
        grants.push(GrantType::Implicit);
    }
    grants.sort();
    let confidential = !spec.public;
    if !confidential && grants.contains(&GrantType::Password) {
        return Err(invalid(
            "the password grant is for confidential clients only (a public client cannot keep a secret)",
        ));
    }
    if !confidential && grants.contains(&GrantType::ClientCredentials) {
        return Err(invalid(
            "the client_credentials grant is for confidential clients only",
        ));
    }
    let access_ttl =
        match spec.token_ttl {
            None => ACCESS_TTL_SECS,
            Some(0) if !confidential => return Err(invalid(
                "--token-ttl 0 (tokens that last until revoked) is for confidential clients only",
            )),
            Some(t) if (0..=MAX_EXPIRES_IN_SECS).contains(&t) => t,
            Some(_) => {
                return Err(invalid(format!(
                "the token lifetime must be 0 (until revoked) or 1 to {MAX_EXPIRES_IN_SECS} seconds"
            )))
            }
        };
    let mut redirect_uris: Vec<String> = Vec::new();
    for u in &spec.redirect_uris {
        let parsed = registrable(u)?;
        if !redirect_uris.contains(&parsed) {
            redirect_uris.push(parsed);
        }
    }
    if redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(invalid(format!(
            "at most {MAX_REDIRECT_URIS} redirect URIs per client"
        )));
    }
    let redirects = grants
        .iter()
        .any(|g| matches!(g, GrantType::AuthorizationCode | GrantType::Implicit));
    if redirects && redirect_uris.is_empty() {
        return Err(invalid(
            "a client that uses the authorization_code or implicit grant needs a redirect URI",
        ));
    }
    if spec.introspect_any && !confidential {
        return Err(invalid(
            "--introspect-any is for confidential clients (resource servers that authenticate)",
        ));
    }
    Ok(ValidClient {
        introspect_any: spec.introspect_any,
        name: name.to_string(),
        description: description.to_string(),
        confidential,
        redirect_uris,
        grants,
        access_ttl,
    })
}

/// Whether `url`'s host is a loopback host where any port is allowed (RFC 8252 §7.3).
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        // SPEC §3 names these three loopback hosts, as RFC 8252 §7.3 does; not all of 127/8.
        Some(url::Host::Ipv4(a)) => a == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    }
}

/// A redirect URI as it may be registered: the parser's serialization of an absolute https URL
/// (or http on a loopback host), without fragment, credentials or control characters.
pub fn registrable(u: &str) -> Result<String, AdminError> {
    let shown: String = u.chars().take(100).collect();
    let bad = |why: &str| invalid(format!("redirect URI {shown:?} {why}"));
    if u.len() > MAX_REDIRECT_URI_LEN {
        return Err(bad("is too long"));
    }
    if u.chars().any(char::is_control) || u.trim() != u {
        return Err(bad("holds spaces or control characters"));
    }
    let p = Url::parse(u).map_err(|_| bad("is not an absolute URL"))?;
    if p.fragment().is_some() {
        return Err(bad("must not have a fragment (#…)"));
    }
    if !p.username().is_empty() || p.password().is_some() {
        return Err(bad("must not hold a user name or password"));
    }
    // The server adds these to the redirect: a registered one would be read first by some
    // parsers, letting a fixed `code` or `state` stand in for the real one.
    const RESPONSE_PARAMS: [&str; 9] = [
        "code",
        "state",
        "iss",
        "error",
        "error_description",
        "error_uri",
        "access_token",
        "token_type",
        "expires_in",
    ];
    if let Some((k, _)) = p
        .query_pairs()
        .find(|(k, _)| RESPONSE_PARAMS.contains(&k.as_ref()))
    {
        return Err(bad(&format!(
            "must not hold the response parameter {k:?} in its query"
        )));
    }
    if p.host_str().is_some_and(|h| h.contains('*')) {
        return Err(bad("has a wildcard host, which never matches"));
    }
    match p.scheme() {
        "https" if p.host_str().is_some() => {}
        "http" if is_loopback(&p) => {}
        "http" => {
            return Err(bad(
                "must use https (http only on 127.0.0.1, [::1] or localhost)",
            ))
        }
        _ => {
            return Err(bad(
                "must use https (http only on 127.0.0.1, [::1] or localhost)",
            ))
        }
    }
    Ok(p.to_string())
}

/// The registered redirect URI that `presented` matches, if any: equal as parsed URLs, except
/// that on a loopback host the port is ignored (a native app listens on whatever port it got).
/// Returns the presented URL as parsed, which is where the browser is sent.
pub fn matching_redirect(registered: &[String], presented: &str) -> Option<Url> {
    if presented.chars().any(char::is_control) {
        return None;
    }
    let p = Url::parse(presented).ok()?;
    if p.fragment().is_some() {
        return None;
    }
    registered.iter().find_map(|r| {
        let r = Url::parse(r).ok()?;
        let same = if r.scheme() == "http" && is_loopback(&r) {
            let mut any_port = p.clone();
            // Loopback: the port may differ; everything else must not.
            any_port.set_port(r.port()).ok()?;
            any_port == r
        } else {
            p == r
        };
        same.then(|| p.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(uris: &[&str]) -> ClientSpec {
        ClientSpec {
            name: "App".into(),
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            ..ClientSpec::default()
        }
    }

    fn refused(s: &ClientSpec) -> String {
        match validate(s) {
            Err(AdminError::Invalid(m)) => m,
            other => format!("accepted: {other:?}"),
        }
    }

    #[test]
    fn defaults_and_grant_rules() {
        let c = validate(&spec(&["https://app.example/cb"])).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.confidential);
        assert_eq!(c.grants, GrantType::DEFAULT.to_vec());
        assert_eq!(c.access_ttl, 3600);
        let mut s = spec(&["https://app.example/cb"]);
        s.grants = vec!["client_credentials".into()];
        s.allow_implicit = true;
        let c = validate(&s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.grants,
            vec![GrantType::Implicit, GrantType::ClientCredentials]
        );
        s.grants = vec!["magic".into()];
        assert!(refused(&s).contains("unknown grant \"magic\""));
        let mut p = spec(&["http://127.0.0.1/cb"]);
        p.public = true;
        p.grants = vec!["password".into()];
        assert!(refused(&p).contains("confidential clients only"));
        p.grants = vec![];
        p.token_ttl = Some(0);
        assert!(refused(&p).contains("--token-ttl 0"));
        p.token_ttl = Some(-1);
        assert!(refused(&p).contains("token lifetime"));
        let mut cc = spec(&[]);
        cc.grants = vec!["client_credentials".into()];
        assert!(
            validate(&cc).is_ok(),
            "no redirect needed without a redirecting grant"
        );
        assert!(refused(&spec(&[])).contains("needs a redirect URI"));
    }

    #[test]
    fn redirect_uri_registration_rules() {
        for ok in [
            "https://app.example/cb",
            "https://app.example/cb?x=1",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
            "http://localhost:3000/callback",
        ] {
            assert!(registrable(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#frag",
            "javascript:alert(1)",
            "data:text/html,hi",
            "/relative",
            "https://user:pw@app.example/cb",
            "https://app.example/c\tb",
            "https://app.example/cb?code=fixed",
            "https://app.example/cb?x=1&state=s",
            "https://*.example/cb",
            " https://app.example/cb",
            "com.example.app:/cb",
            "http://127.0.0.2/cb",
        ] {
            assert!(registrable(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_is_exact_except_loopback_ports() {
        let reg = vec![
            registrable("https://app.example/cb").unwrap_or_default(),
            registrable("http://127.0.0.1/cb").unwrap_or_default(),
            registrable("http://localhost:3000/cb").unwrap_or_default(),
        ];
        let m = |p: &str| matching_redirect(&reg, p).map(|u| u.to_string());
        assert_eq!(
            m("https://app.example/cb").as_deref(),
            Some("https://app.example/cb")
        );
        assert_eq!(
            m("https://APP.example:443/cb").as_deref(),
            Some("https://app.example/cb")
        );
        assert_eq!(m("https://app.example/cb/"), None);
        assert_eq!(m("https://app.example/cb?x=1"), None);
        assert_eq!(m("https://app.example/CB"), None);
        assert_eq!(m("https://app.example.evil/cb"), None);
        assert_eq!(m("https://app.example/cb#x"), None);
        assert_eq!(m("http://app.example/cb"), None);
        assert_eq!(
            m("http://127.0.0.1:51234/cb").as_deref(),
            Some("http://127.0.0.1:51234/cb")
        );
        assert_eq!(
            m("http://localhost:9999/cb").as_deref(),
            Some("http://localhost:9999/cb")
        );
        assert_eq!(m("http://127.0.0.1:5/other"), None);
        assert_eq!(m("https://127.0.0.1/cb"), None, "scheme still counts");
        assert_eq!(m("https://app.example/c\nb"), None);
    }
}
