//! The one answer to "which site, and which issuer, is this request for?" (SPEC §0, §1), shared
//! by the three dialects, the web pages and (with OAuth) the authorization server: the site whose
//! host the request came to; else the primary site — the public URL's, else the first created.
//! Absolute URLs the server writes (links, `next`, redirects, the OAuth issuer and `iss`) start
//! from that site's configured URL, never from a raw `Host` header; with no site at all, from the
//! operator's public URL.

use crate::app::AppState;
use gatehouse_core::model::Site;
use gatehouse_core::store::StoreError;

/// The site a request is for, and the base URL everything absolute is built from.
#[derive(Debug, Clone)]
pub struct RequestSite {
    pub site: Option<Site>,
    /// The site's configured URL (no trailing slash), else the operator's public URL.
    pub base: String,
}

impl RequestSite {
    /// The OAuth 2.0 issuer identifier (RFC 8414 §2, RFC 9207): the base URL, so the metadata
    /// fetched from a site's host names that host's issuer.
    pub fn issuer(&self) -> &str {
        &self.base
    }
}

/// Resolves the site for a request that came to `host` (as the proxy rule of SPEC §0 gave it).
pub async fn resolve(app: &AppState, host: Option<&str>) -> Result<RequestSite, StoreError> {
    let site = find(app, host).await?;
    let base = match &site {
        Some(s) => s.url.clone(),
        None => app.settings.effective_public_url(),
    };
    Ok(RequestSite { site, base })
}

/// From memory when the cache has it (a site's creation, change or deletion drops it).
async fn find(app: &AppState, host: Option<&str>) -> Result<Option<Site>, StoreError> {
    app.cache
        .site(host, app.clock.now(), find_in_store(app, host))
        .await
}

async fn find_in_store(app: &AppState, host: Option<&str>) -> Result<Option<Site>, StoreError> {
    let store = app.store.as_ref();
    if let Some(h) = host {
        if let Some(s) = store.find_site_by_host(h).await? {
            return Ok(Some(s));
        }
    }
    if let Some(public) = &app.settings.public_url {
        if let Ok((_, h)) = gatehouse_core::validate::site_url(public) {
            if let Some(s) = store.find_site_by_host(&h).await? {
                return Ok(Some(s));
            }
        }
    }
    store.find_first_site().await
}
