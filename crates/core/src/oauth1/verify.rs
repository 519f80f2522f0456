//! Verifying one OAuth 1.0a signed request (RFC 5849 §3.2), for the three legs and for resource
//! requests: the protocol parameters, the timestamp window, the consumer and token (one indexed
//! look-up each), one decryption per secret, one HMAC over the base string, then one nonce insert.
//! The signature is checked before the nonce is written, so nobody without the secrets can use up
//! a client's nonces. Time comes from the caller.

use super::signature::{base_string, verify, Problem, RequestParams, Signed};
use super::{consumer_binding, is_consumer_key, is_token_key, token_binding, Consumer, TokenKind};
use super::{TokenMatch, TIMESTAMP_WINDOW_SECS};
use crate::clock::Timestamp;
use crate::secrets::{Keyring, Purpose};
use crate::store::{Store, StoreError};

/// Which request is being verified, and so which token it must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    /// `POST /oauth1/request`: the consumer alone, no token.
    Request,
    /// `POST /oauth1/access`: an approved request token and its verifier.
    Access,
    /// A resource request: an access token.
    Resource,
}

/// A request whose signature, timestamp and nonce were accepted.
#[derive(Debug)]
pub struct Verified {
    pub signed: Signed,
    pub consumer: Consumer,
    /// The token it was signed with (none on the request leg).
    pub token: Option<TokenMatch>,
}

/// Why a request was refused: a named problem, or the store failed.
#[derive(Debug)]
pub enum Refused {
    Problem(Problem),
    Store(StoreError),
}

impl From<Problem> for Refused {
    fn from(p: Problem) -> Self {
        Refused::Problem(p)
    }
}
impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Store(e)
    }
}

/// The request as signed: its method, base-string URI (from the site's URL) and parameters.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub base_uri: &'a str,
    pub params: &'a RequestParams,
}

pub async fn verify_request(
    store: &dyn Store,
    keys: &Keyring,
    req: &SignedRequest<'_>,
    leg: Leg,
    now: Timestamp,
) -> Result<Verified, Refused> {
    let signed = req.params.protocol()?;
    if (signed.timestamp - now).abs() > TIMESTAMP_WINDOW_SECS {
        return Err(Problem::TimestampRefused.into());
    }
    if !is_consumer_key(&signed.consumer_key) {
        return Err(Problem::ConsumerKeyUnknown.into());
    }
    let (consumer, consumer_secret, token) = match leg {
        Leg::Request => {
            if signed.token.is_some() {
                return Err(Problem::ParameterRejected("oauth_token").into());
            }
            let Some((c, sealed, suspended)) =
                store.find_consumer_by_key(&signed.consumer_key).await?
            else {
                return Err(Problem::ConsumerKeyUnknown.into());
            };
            if suspended {
                return Err(Problem::ConsumerKeyUnknown.into());
            }
            (c, sealed, None)
        }
        Leg::Access | Leg::Resource => {
            let presented = signed
                .token
                .as_deref()
                .ok_or(Problem::ParameterAbsent("oauth_token"))?;
            let Some(m) = find_token(store, keys, presented).await? else {
                // Say which of the two is unknown (the consumer's key is public).
                return Err(
                    match store.find_consumer_by_key(&signed.consumer_key).await? {
                        Some(_) => Problem::TokenRejected,
                        None => Problem::ConsumerKeyUnknown,
                    }
                    .into(),
                );
            };
            let kind = if leg == Leg::Access {
                TokenKind::Request
            } else {
                TokenKind::Access
            };
            if m.consumer.key != signed.consumer_key {
                // A token of another consumer: the key the client named must exist to say so.
                return Err(
                    match store.find_consumer_by_key(&signed.consumer_key).await? {
                        Some(_) => Problem::TokenRejected,
                        None => Problem::ConsumerKeyUnknown,
                    }
                    .into(),
                );
            }
            if m.consumer_suspended {
                return Err(Problem::ConsumerKeyUnknown.into());
            }
            let user_ok = match leg {
                Leg::Resource => m.user.as_ref().is_some_and(|u| !u.disabled),
                _ => m.user.as_ref().is_none_or(|u| !u.disabled),
            };
            if m.token.kind != kind || !m.token.is_live(now) || !user_ok {
                return Err(Problem::TokenRejected.into());
            }
            (m.consumer.clone(), m.consumer_secret.clone(), Some(m))
        }
    };
    let broken = || {
        Refused::Store(StoreError::Backend(
            "a sealed OAuth 1.0a secret did not open".into(),
        ))
    };
    let consumer_secret = keys
        .open(&consumer_secret, &consumer_binding(&consumer.key))
        .ok_or_else(broken)?;
    let token_secret = match &token {
        Some(m) => keys
            .open(&m.secret, &token_binding(&m.hash))
            .ok_or_else(broken)?,
        None => String::new(),
    };
    let base = base_string(req.method, req.base_uri, req.params);
    if !verify(
        signed.method,
        &consumer_secret,
        &token_secret,
        &base,
        &signed.signature,
    ) {
        return Err(Problem::SignatureInvalid.into());
    }
    let token_ref = token.as_ref().map(|m| m.hash.as_str()).unwrap_or("");
    // Remembered one second past the window, so a purge never forgets a nonce whose timestamp
    // would still be accepted.
    let fresh = store
        .remember_nonce(
            consumer.id,
            token_ref,
            signed.timestamp,
            &signed.nonce,
            signed.timestamp + TIMESTAMP_WINDOW_SECS + 1,
        )
        .await?;
    if !fresh {
        return Err(Problem::NonceUsed.into());
    }
    Ok(Verified {
        signed,
        consumer,
        token,
    })
}

/// The token `presented` names: its shape, then one indexed look-up of its keyed hash under the
/// current key version and then each older one.
pub async fn find_token(
    store: &dyn Store,
    keys: &Keyring,
    presented: &str,
) -> Result<Option<TokenMatch>, StoreError> {
    if !is_token_key(presented) {
        return Ok(None);
    }
    for hash in keys.hashes(Purpose::OAuth1Token, presented) {
        if let Some(m) = store.find_oauth1_token(&hash).await? {
            return Ok(Some(m));
        }
    }
    Ok(None)
}
