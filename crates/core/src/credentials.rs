//! Creating and revoking the credentials scripts use (SPEC §4, §5): API keys and application
//! passwords. Owns input validation and the mint → keyed hash → store sequence, shared by the
//! CLI and the JSON APIs, so the secret exists in clear only in the value returned here.
//! Who may create what (SPEC §6) is decided by the caller (policy for the APIs; the operator for
//! the CLI). Randomness: `secrets` (OS RNG); time: the caller's `now`.

use crate::admin::AdminError;
use crate::clock::Timestamp;
use crate::model::*;
use crate::secrets::{self, Keyring, Purpose, Secret, TokenKind};
use crate::store::{Store, StoreError};

/// Use of a credential (`last_used`, a session's `last_seen`) is recorded at most this often.
pub const TOUCH_INTERVAL_SECS: i64 = 60;

/// Whether a use at `now` should be recorded, given the last recorded one: never recorded, or
/// at least `TOUCH_INTERVAL_SECS` ago. (The store's conditional update enforces the same rule
/// across instances; this spares the request a write it would not make.)
pub fn use_is_due(last: Option<Timestamp>, now: Timestamp) -> bool {
    last.is_none_or(|t| now - t >= TOUCH_INTERVAL_SECS)
}

/// The longest lifetime a key may be given (10 years), in every place a key is made.
pub const MAX_EXPIRES_IN_SECS: i64 = 10 * 365 * 86_400;

/// `expires_in` as typed into a form: empty means "never"; anything else must be a whole number
/// of seconds (the range is checked with the rest of the key's rules).
pub fn expires_in_text(s: Option<&str>) -> Result<Option<i64>, AdminError> {
    match s.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t.parse::<i64>().map(Some).map_err(|_| {
            AdminError::Invalid(format!(
                "expires_in must be between 1 and {MAX_EXPIRES_IN_SECS} seconds (10 years)"
            ))
        }),
    }
}

/// HTTP methods a key may be limited to.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"];

/// A request to create an API key, as given by a person or a script.
#[derive(Debug, Clone)]
pub struct ApiKeySpec {
    pub kind: ApiKeyKind,
    /// The user a user key acts as.
    pub user: Option<UserId>,
    pub site: Option<SiteId>,
    pub created_by: UserId,
    pub description: String,
    pub scopes: Vec<String>,
    pub methods: Vec<String>,
    pub expires_in: Option<i64>,
}

/// Validates everything that needs no database.
/// A key's validated limits: scopes and methods (`None` = not limited).
pub type KeyLimits = (Option<Vec<Scope>>, Option<Vec<String>>);

pub fn validate_api_key(spec: &ApiKeySpec) -> Result<KeyLimits, AdminError> {
    let d = spec.description.trim();
    if d.is_empty() || d.chars().count() > 200 {
        return Err(AdminError::Invalid(
            "description must be 1 to 200 characters".into(),
        ));
    }
    let scopes =
        Scope::parse_list(spec.scopes.iter().map(String::as_str)).map_err(AdminError::Invalid)?;
    let mut methods = Vec::new();
    for m in spec
        .methods
        .iter()
        .flat_map(|m| m.split([',', ' ']))
        .filter(|m| !m.is_empty())
    {
        let up = m.to_ascii_uppercase();
        if !METHODS.contains(&up.as_str()) {
            return Err(AdminError::Invalid(format!("unknown HTTP method {m:?}")));
        }
        if !methods.contains(&up) {
            methods.push(up);
        }
    }
    if let Some(secs) = spec.expires_in {
        if !(1..=MAX_EXPIRES_IN_SECS).contains(&secs) {
            return Err(AdminError::Invalid(format!(
                "expires_in must be between 1 and {MAX_EXPIRES_IN_SECS} seconds (10 years)"
            )));
        }
    }
    match spec.kind {
        ApiKeyKind::User if spec.user.is_none() => {
            Err(AdminError::Invalid("a user key needs a user".into()))
        }
        ApiKeyKind::Site if spec.site.is_none() => {
            Err(AdminError::Invalid("a site key needs a site".into()))
        }
        ApiKeyKind::Site if scopes.is_some() || !methods.is_empty() => Err(AdminError::Invalid(
            "a site key is read-only; scopes and methods do not apply".into(),
        )),
        _ => Ok((scopes, (!methods.is_empty()).then_some(methods))),
    }
}

pub async fn create_api_key(
    store: &dyn Store,
    keys: &Keyring,
    spec: &ApiKeySpec,
    now: Timestamp,
) -> Result<(ApiKey, Secret), AdminError> {
    let (scopes, methods) = validate_api_key(spec)?;
    let secret = secrets::mint(match spec.kind {
        ApiKeyKind::User => TokenKind::UserApiKey,
        ApiKeyKind::Site => TokenKind::SiteApiKey,
    });
    let new = NewApiKey {
        kind: spec.kind,
        user_id: spec.user,
        site_id: spec.site,
        created_by: spec.created_by,
        description: spec.description.trim().to_string(),
        scopes,
        methods,
        expires_at: spec.expires_in.map(|s| now.saturating_add(s)),
        hash: keys.hash(Purpose::ApiKey, secret.expose_secret()),
        key_version: keys.version,
    };
    let key = store
        .insert_api_key(&new, now)
        .await
        .map_err(AdminError::Store)?;
    Ok((key, secret))
}

/// Validates an application password's name (WordPress: required, unique per user).
pub fn app_password_name(name: &str) -> Result<String, AdminError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(AdminError::Invalid(
            "An application name is required to create an application password.".into(),
        ));
    }
    if n.chars().count() > 200 {
        return Err(AdminError::Invalid(
            "application names are at most 200 characters".into(),
        ));
    }
    Ok(n.to_string())
}

pub async fn create_app_password(
    store: &dyn Store,
    keys: &Keyring,
    user: UserId,
    name: &str,
    app_id: &str,
    now: Timestamp,
) -> Result<(AppPassword, Secret), AdminError> {
    let name = app_password_name(name)?;
    let secret = secrets::mint_app_password();
    let new = NewAppPassword {
        uuid: uuid::Uuid::new_v4().to_string(),
        user_id: user,
        app_id: app_id.to_string(),
        name,
        hash: keys.hash(Purpose::AppPassword, secret.expose_secret()),
        key_version: keys.version,
    };
    match store.insert_app_password(&new, now).await {
        Ok(p) => Ok((p, secret)),
        Err(StoreError::Conflict(_)) => Err(AdminError::Conflict(
            "Each application name should be unique.".into(),
        )),
        Err(e) => Err(AdminError::Store(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ApiKeySpec {
        ApiKeySpec {
            kind: ApiKeyKind::User,
            user: Some(UserId(1)),
            site: None,
            created_by: UserId(1),
            description: "deploy".into(),
            scopes: Vec::new(),
            methods: Vec::new(),
            expires_in: None,
        }
    }

    fn refused(s: &ApiKeySpec) -> String {
        match validate_api_key(s) {
            Err(AdminError::Invalid(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn lifetimes_are_bounded_at_ten_years() {
        assert_eq!(MAX_EXPIRES_IN_SECS, 315_360_000);
        for ok in [1, 3600, MAX_EXPIRES_IN_SECS] {
            let s = ApiKeySpec {
                expires_in: Some(ok),
                ..spec()
            };
            assert!(validate_api_key(&s).is_ok(), "{ok}");
        }
        for bad in [0, -5, MAX_EXPIRES_IN_SECS + 1, i64::MAX] {
            let s = ApiKeySpec {
                expires_in: Some(bad),
                ..spec()
            };
            assert!(refused(&s).contains("between 1 and 315360000"), "{bad}");
        }
        assert_eq!(expires_in_text(None).unwrap(), None);
        assert_eq!(expires_in_text(Some("  ")).unwrap(), None);
        assert_eq!(expires_in_text(Some(" 60 ")).unwrap(), Some(60));
        assert!(matches!(
            expires_in_text(Some("abc")),
            Err(AdminError::Invalid(m)) if m.contains("between 1 and")
        ));
    }

    #[test]
    fn keys_are_validated_before_anything_is_stored() {
        assert!(refused(&ApiKeySpec {
            description: "  ".into(),
            ..spec()
        })
        .contains("description"));
        assert!(refused(&ApiKeySpec {
            description: "x".repeat(201),
            ..spec()
        })
        .contains("description"));
        assert!(validate_api_key(&ApiKeySpec {
            description: "x".repeat(200),
            ..spec()
        })
        .is_ok());
        let (_, methods) = validate_api_key(&ApiKeySpec {
            methods: vec!["get, post".into(), "GET".into()],
            ..spec()
        })
        .unwrap();
        assert_eq!(methods, Some(vec!["GET".to_string(), "POST".to_string()]));
        assert!(refused(&ApiKeySpec {
            methods: vec!["TRACE".into()],
            ..spec()
        })
        .contains("TRACE"));
        let (scopes, methods) = validate_api_key(&spec()).unwrap();
        assert_eq!((scopes, methods), (None, None), "no limits");
        assert!(refused(&ApiKeySpec {
            user: None,
            ..spec()
        })
        .contains("needs a user"));
        let site = ApiKeySpec {
            kind: ApiKeyKind::Site,
            user: None,
            site: Some(SiteId(1)),
            ..spec()
        };
        assert!(validate_api_key(&site).is_ok());
        assert!(refused(&ApiKeySpec {
            site: None,
            ..site.clone()
        })
        .contains("needs a site"));
        assert!(refused(&ApiKeySpec {
            scopes: vec!["posts".into()],
            ..site.clone()
        })
        .contains("read-only"));
        assert!(refused(&ApiKeySpec {
            methods: vec!["GET".into()],
            ..site
        })
        .contains("read-only"));
    }

    #[test]
    fn uses_are_recorded_at_most_once_a_minute() {
        assert!(use_is_due(None, 0));
        assert!(!use_is_due(Some(100), 100));
        assert!(!use_is_due(Some(100), 159));
        assert!(use_is_due(Some(100), 160));
        assert!(use_is_due(Some(100), 10_000));
        assert!(
            !use_is_due(Some(100), 40),
            "a clock that went back records nothing"
        );
    }

    #[test]
    fn application_password_names() {
        assert_eq!(app_password_name("  My app ").unwrap(), "My app");
        assert!(app_password_name(" ").is_err());
        assert!(app_password_name(&"x".repeat(200)).is_ok());
        assert!(app_password_name(&"x".repeat(201)).is_err());
    }
}
