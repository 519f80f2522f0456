//! The authorization request (RFC 6749 §4.1.1, SPEC §3), checked in the order the RFC requires:
//! first the client and its redirect URI — a failure there is shown on an error page and never
//! sent anywhere (§4.1.2.1) — then everything else, whose failures go back to the client's
//! redirect URI with `error`, `state` and `iss`. PKCE is `S256` only; public clients must use it.
//! Pure.

use super::clients::matching_redirect;
use super::{pkce, Client, GrantType};
use crate::model::Scope;
use std::collections::HashMap;
use url::Url;

/// Why an authorization request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The client or redirect URI cannot be trusted: an error page, status 400, no redirect.
    Page(String),
    /// Sent back to the (trusted) redirect URI (RFC 6749 §4.1.2.1).
    Redirect {
        to: Box<Url>,
        error: &'static str,
        description: String,
        /// In the fragment (the implicit grant, RFC 6749 §4.2.2.1), not the query.
        fragment: bool,
    },
}

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Where to send the browser back.
    pub redirect: Url,
    /// The redirect URI as sent, if it was (then it must be sent again to the token endpoint).
    pub redirect_given: Option<String>,
    pub scopes: Option<Vec<Scope>>,
    /// The scope as stored: the parsed scopes joined, empty for none.
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    /// `response_type=token`: the implicit grant, answered in the fragment.
    pub implicit: bool,
}

/// Longest `state` carried back.
pub const MAX_STATE_LEN: usize = 1024;

/// Checks an authorization request of `client` (already found by its `client_id`).
pub fn check(client: &Client, p: &HashMap<String, String>) -> Result<Checked, Refused> {
    let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    // 1. The redirect URI: registered (compared as parsed URLs), or the only one registered.
    let redirect_given = get("redirect_uri").map(str::to_string);
    let redirect = match &redirect_given {
        Some(u) => matching_redirect(&client.redirect_uris, u).ok_or_else(|| {
            Refused::Page("The redirect URI is not registered for this application.".into())
        })?,
        None => match client.redirect_uris.as_slice() {
            [only] => Url::parse(only)
                .map_err(|_| Refused::Page("The application's redirect URI is invalid.".into()))?,
            [] => return Err(Refused::Page(
                "This application has no redirect URI: it cannot use the authorization endpoint."
                    .into(),
            )),
            _ => {
                return Err(Refused::Page(
                    "The request has no redirect_uri, and the application registered several."
                        .into(),
                ))
            }
        },
    };
    // 2. Everything else goes back to the client — in the fragment for the implicit grant.
    let implicit = get("response_type") == Some("token");
    let back = |error: &'static str, description: &str| Refused::Redirect {
        to: Box::new(redirect.clone()),
        error,
        description: description.to_string(),
        fragment: implicit,
    };
    let state = get("state").map(str::to_string);
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(back("invalid_request", "The state parameter is too long."));
    }
    match get("response_type") {
        Some("code") if client.allows(GrantType::AuthorizationCode) => {}
        Some("code") => {
            return Err(back(
                "unauthorized_client",
                "This application may not use the authorization code grant.",
            ))
        }
        // The token travels in the browser: `state` is the only protection against a forged
        // response (SPEC §3 requires it).
        Some("token") if client.allows(GrantType::Implicit) && state.is_none() => {
            return Err(back(
                "invalid_request",
                "The implicit grant requires a state parameter.",
            ))
        }
        Some("token") if client.allows(GrantType::Implicit) => {}
        Some("token") => {
            return Err(back(
                "unauthorized_client",
                "This application may not use the implicit grant.",
            ))
        }
        Some(_) => {
            return Err(back(
                "unsupported_response_type",
                "Only response_type=code (and token, for applications granted it) is supported.",
            ))
        }
        None => {
            return Err(back(
                "invalid_request",
                "The response_type parameter is missing.",
            ))
        }
    }
    let scopes =
        Scope::parse_list([get("scope").unwrap_or("")]).map_err(|e| back("invalid_scope", &e))?;
    let challenge = get("code_challenge").map(str::to_string);
    match (challenge.as_deref(), get("code_challenge_method")) {
        // PKCE protects a code; the implicit grant has none.
        (None, None) if !client.confidential && !implicit => return Err(back(
            "invalid_request",
            "A public client must use PKCE: send code_challenge with code_challenge_method=S256.",
        )),
        (None, None) => {}
        (None, Some(_)) => {
            return Err(back(
                "invalid_request",
                "code_challenge_method was sent without a code_challenge.",
            ))
        }
        (Some(_), None) | (Some(_), Some("plain")) => {
            return Err(back(
                "invalid_request",
                "Only code_challenge_method=S256 is supported (plain is not).",
            ))
        }
        (Some(c), Some("S256")) if pkce::challenge_ok(c) => {}
        (Some(_), Some("S256")) => {
            return Err(back(
                "invalid_request",
                "The code_challenge is not a base64url SHA-256 digest (43 characters).",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(back(
                "invalid_request",
                "Only code_challenge_method=S256 is supported.",
            ))
        }
    }
    Ok(Checked {
        redirect,
        redirect_given,
        scope: scopes.as_deref().map(Scope::join).unwrap_or_default(),
        scopes,
        state,
        code_challenge: challenge,
        implicit,
    })
}

/// `to` with the response parameters in its fragment (the implicit grant, RFC 6749 §4.2.2).
pub fn respond_in_fragment(to: &Url, pairs: &[(&str, &str)]) -> String {
    let mut u = to.clone();
    let fragment = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().copied())
        .finish();
    u.set_fragment(Some(&fragment));
    u.to_string()
}

/// `to` with the response parameters added to its query (the parser's serialization; never
/// string surgery). `iss` is the issuer (RFC 9207).
pub fn respond(to: &Url, pairs: &[(&str, &str)]) -> String {
    let mut u = to.clone();
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

/// Each scope in plain words, for the consent page.
pub fn describe(scopes: Option<&[Scope]>) -> Vec<&'static str> {
    use Scope::*;
    match scopes {
        None => vec!["Everything you can do on one site: read and write its posts, comments and settings, as you."],
        Some(list) => list
            .iter()
            .map(|s| match s {
                Auth => "Know who you are: your name, username and email address. Nothing else.",
                Global => "Everything you can do on every site you belong to, as you.",
                SitesRead => "See the sites you belong to.",
                SitesWrite => "See, create and change your sites.",
                Posts => "Read and write posts on one site, as you.",
                PostsRead => "Read posts on one site, including drafts you may see.",
                Comments => "Read and write comments on one site, as you.",
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientId, UserId};

    fn client(confidential: bool, uris: &[&str]) -> Client {
        Client {
            id: ClientId(7),
            name: "App".into(),
            description: String::new(),
            owner_id: UserId(1),
            confidential,
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
            grants: GrantType::DEFAULT.to_vec(),
            access_ttl: 3600,
            introspect_any: false,
            created_at: 0,
        }
    }

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn error_of(r: Result<Checked, Refused>) -> String {
        match r {
            Err(Refused::Redirect { error, .. }) => error.to_string(),
            Err(Refused::Page(m)) => format!("page: {m}"),
            Ok(_) => "accepted".into(),
        }
    }

    #[test]
    fn the_redirect_uri_is_checked_first_and_never_redirected_to_when_wrong() {
        let c = client(
            true,
            &["https://app.example/cb", "https://app.example/other"],
        );
        let bad = params(&[
            ("redirect_uri", "https://evil.example/cb"),
            ("response_type", "nope"),
        ]);
        assert!(error_of(check(&c, &bad)).starts_with("page:"));
        let none = params(&[("response_type", "code")]);
        assert!(
            error_of(check(&c, &none)).starts_with("page:"),
            "several registered"
        );
        let one = client(true, &["https://app.example/cb"]);
        let ok = check(&one, &none).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.redirect.as_str(), "https://app.example/cb");
        assert_eq!(ok.redirect_given, None);
    }

    #[test]
    fn later_errors_go_back_to_the_client() {
        let c = client(true, &["https://app.example/cb"]);
        let with = |extra: &[(&str, &str)]| {
            let mut p = params(&[
                ("redirect_uri", "https://app.example/cb"),
                ("response_type", "code"),
            ]);
            for (k, v) in extra {
                p.insert(k.to_string(), v.to_string());
            }
            error_of(check(&c, &p))
        };
        assert_eq!(with(&[]), "accepted");
        assert_eq!(
            with(&[("response_type", "token")]),
            "unauthorized_client",
            "not granted implicit"
        );
        assert_eq!(
            with(&[("response_type", "id_token")]),
            "unsupported_response_type"
        );
        assert_eq!(with(&[("response_type", "")]), "invalid_request");
        assert_eq!(with(&[("scope", "everything")]), "invalid_scope");
        assert_eq!(with(&[("scope", "auth posts")]), "invalid_scope");
        let good = pkce::s256(&"v".repeat(43));
        assert_eq!(
            with(&[("code_challenge", &good)]),
            "invalid_request",
            "no method = plain"
        );
        assert_eq!(
            with(&[
                ("code_challenge", &good),
                ("code_challenge_method", "plain")
            ]),
            "invalid_request"
        );
        assert_eq!(
            with(&[
                ("code_challenge", "short"),
                ("code_challenge_method", "S256")
            ]),
            "invalid_request"
        );
        assert_eq!(
            with(&[("code_challenge_method", "S256")]),
            "invalid_request"
        );
        assert_eq!(
            with(&[("code_challenge", &good), ("code_challenge_method", "S256")]),
            "accepted"
        );
        let public = client(false, &["http://127.0.0.1/cb"]);
        let p = params(&[
            ("redirect_uri", "http://127.0.0.1:5555/cb"),
            ("response_type", "code"),
        ]);
        assert_eq!(
            error_of(check(&public, &p)),
            "invalid_request",
            "PKCE required"
        );
        let mut imp = client(false, &["https://app.example/cb"]);
        imp.grants = vec![GrantType::Implicit];
        let p = params(&[("response_type", "token")]);
        assert_eq!(
            error_of(check(&imp, &p)),
            "invalid_request",
            "state required"
        );
        let p = params(&[("response_type", "token"), ("state", "s")]);
        let ok = check(&imp, &p).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(ok.implicit, "no PKCE needed for a token in the fragment");
        match check(
            &imp,
            &params(&[("response_type", "token"), ("scope", "bad")]),
        ) {
            Err(Refused::Redirect { fragment, .. }) => assert!(fragment),
            other => panic!("{other:?}"),
        }
        let mut cc = client(true, &["https://app.example/cb"]);
        cc.grants = vec![GrantType::ClientCredentials];
        let p = params(&[("response_type", "code")]);
        assert_eq!(error_of(check(&cc, &p)), "unauthorized_client");
    }

    #[test]
    fn responses_are_built_by_the_parser() {
        let to = Url::parse("https://app.example/cb?keep=1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            respond(&to, &[("code", "a&b"), ("state", "x y")]),
            "https://app.example/cb?keep=1&code=a%26b&state=x+y"
        );
    }
}
