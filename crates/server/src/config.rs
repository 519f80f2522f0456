//! Settings, layered once at start: serde defaults < TOML file (`--config`, unknown keys are an
//! error) < `GATEHOUSE_*` environment (`__` nests, `*_FILE` reads a file; unknown variables are a
//! warning) < command-line flags. The result is validated into `Settings` and passed down.
//! SPEC §0 (`allow_insecure_http`, `trusted_proxies`), §2 (throttle), §9 (`site_creation`).

use gatehouse_core::net::ProxyHeader;
use gatehouse_core::throttle::ThrottlePolicy;
use ipnet::IpNet;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Who may create sites through `POST /v1/sites` (SPEC §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SiteCreation {
    #[default]
    NetworkAdmins,
    AnyUser,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The URL clients use to reach this server; the primary site's URL.
    pub public_url: Option<String>,
    /// `postgres://…`, `sqlite://…` or a file path. Default: `gatehouse.db` in `data_dir`.
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    /// `tracing` filter, e.g. `info` or `gatehouse=debug`.
    pub log_level: String,
    /// Accept HTTP Basic with the account password (off by default; SPEC §4).
    pub basic_auth_with_account_password: bool,
    /// Accept credentials over plain http from non-loopback peers (SPEC §0).
    pub allow_insecure_http: bool,
    /// Proxies whose `Forwarded` / `X-Forwarded-*` headers are believed.
    #[serde(deserialize_with = "proxies")]
    pub trusted_proxies: Vec<IpNet>,
    /// The forwarding header those proxies write: `x-forwarded-for` (default) or `forwarded`.
    /// Only that one is believed (SPEC §0).
    pub trusted_proxy_header: ProxyHeader,
    pub site_creation: SiteCreation,
    /// Argon2id checks at once; `0` = the number of CPUs (SPEC §2).
    pub argon2_max_concurrency: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The server key file (default: beside the SQLite file, else in `data_dir`).
    pub secret_key_file: Option<PathBuf>,
    pub throttle: ThrottlePolicy,
    /// How long an OAuth 2.0 authorization code may wait for its exchange, in seconds (SPEC §3:
    /// 60; at most 600, RFC 6749 §4.1.2).
    pub oauth_code_ttl_secs: i64,
    /// Keep credentials, sites and roles in memory between requests, dropped whenever anything
    /// that could change them is committed (SPEC §11). Off: every request reads the database.
    pub cache: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            database_url: None,
            data_dir: PathBuf::from("gatehouse-data"),
            log_format: LogFormat::Text,
            log_level: "info".into(),
            basic_auth_with_account_password: false,
            allow_insecure_http: false,
            trusted_proxies: Vec::new(),
            trusted_proxy_header: ProxyHeader::XForwardedFor,
            site_creation: SiteCreation::NetworkAdmins,
            argon2_max_concurrency: 0,
            max_body_bytes: 1 << 20,
            secret_key_file: None,
            throttle: ThrottlePolicy::default(),
            oauth_code_ttl_secs: gatehouse_core::oauth2::CODE_TTL_SECS,
            cache: true,
        }
    }
}

/// `trusted_proxies`: CIDRs or bare addresses, with an error that names the setting.
fn proxies<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    let raw: Vec<String> = Vec::deserialize(d)?;
    raw.iter()
        .map(|s| gatehouse_core::net::parse_proxy(s).map_err(serde::de::Error::custom))
        .collect()
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Flags that override everything else (only those given).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub log_format: Option<String>,
}

/// Variables the product reads that are not settings.
const OTHER_VARS: &[&str] = &[
    "GATEHOUSE_CONFIG",
    "GATEHOUSE_SECRET_KEY",
    "GATEHOUSE_TEST_POSTGRES_URL",
    "GATEHOUSE_TEST_REQUIRE_POSTGRES",
    "GATEHOUSE_TEST_REQUIRE_CHROMIUM",
    "GATEHOUSE_TEST_REQUIRE_PYTHON",
];

/// Settings keys, with how an environment string becomes a TOML value.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Int,
    List,
}

const KEYS: &[(&str, Kind)] = &[
    ("listen", Kind::Str),
    ("public_url", Kind::Str),
    ("database_url", Kind::Str),
    ("data_dir", Kind::Str),
    ("log_format", Kind::Str),
    ("log_level", Kind::Str),
    ("basic_auth_with_account_password", Kind::Bool),
    ("allow_insecure_http", Kind::Bool),
    ("trusted_proxies", Kind::List),
    ("trusted_proxy_header", Kind::Str),
    ("site_creation", Kind::Str),
    ("argon2_max_concurrency", Kind::Int),
    ("max_body_bytes", Kind::Int),
    ("secret_key_file", Kind::Str),
    ("oauth_code_ttl_secs", Kind::Int),
    ("cache", Kind::Bool),
    ("throttle.pair_failures", Kind::Int),
    ("throttle.pair_base_secs", Kind::Int),
    ("throttle.pair_max_secs", Kind::Int),
    ("throttle.address_failures", Kind::Int),
    ("throttle.address_window_secs", Kind::Int),
];

fn env_value(key: &str, kind: Kind, raw: &str) -> Result<toml::Value, ConfigError> {
    let bad = |what: &str| ConfigError(format!("environment setting {key}: {raw:?} is not {what}"));
    Ok(match kind {
        Kind::Str => toml::Value::String(raw.to_string()),
        Kind::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => toml::Value::Boolean(true),
            "0" | "false" | "no" | "off" => toml::Value::Boolean(false),
            _ => return Err(bad("a boolean")),
        },
        Kind::Int => toml::Value::Integer(raw.trim().parse().map_err(|_| bad("an integer"))?),
        Kind::List => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
    })
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    match path.split_once('.') {
        Some((head, rest)) => {
            let entry = table
                .entry(head.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(t) = entry {
                set_path(t, rest, value);
            }
        }
        None => {
            table.insert(path.to_string(), value);
        }
    }
}

/// What loading produced besides the settings: warnings to print once logging is up.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub warnings: Vec<String>,
}

impl Settings {
    /// Layers file, environment and flags. `env` is passed in so tests need no global state.
    pub fn load(
        file: Option<&Path>,
        env: &[(String, String)],
        flags: &Overrides,
    ) -> Result<(Settings, LoadReport), ConfigError> {
        let mut report = LoadReport::default();
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError(format!("cannot read config file {}: {e}", path.display()))
                })?;
                text.parse::<toml::Table>().map_err(|e| {
                    ConfigError(format!("config file {}: {}", path.display(), e.message()))
                })?
            }
            None => toml::Table::new(),
        };
        // Reject unknown keys in the file with the file's name in the message.
        Settings::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| ConfigError(format!("config file: {}", e.message())))?;

        for (name, raw) in env {
            let Some(rest) = name.strip_prefix("GATEHOUSE_") else {
                continue;
            };
            if OTHER_VARS.contains(&name.as_str()) {
                continue;
            }
            // A setting's own name wins (`GATEHOUSE_SECRET_KEY_FILE` is the `secret_key_file`
            // setting); otherwise `*_FILE` reads the setting's value from a file.
            let find = |r: &str| {
                let path = r.to_ascii_lowercase().replace("__", ".");
                KEYS.iter().find(|(k, _)| *k == path)
            };
            let found = match find(rest) {
                Some(k) => Some((k, false)),
                None => rest.strip_suffix("_FILE").and_then(find).map(|k| (k, true)),
            };
            let Some(((key, kind), from_file)) = found else {
                report
                    .warnings
                    .push(format!("ignoring unknown environment variable {name}"));
                continue;
            };
            let raw = if from_file {
                std::fs::read_to_string(raw)
                    .map_err(|e| ConfigError(format!("{name}: cannot read {raw}: {e}")))?
                    .trim_end_matches(['\n', '\r'])
                    .to_string()
            } else {
                raw.clone()
            };
            set_path(&mut table, key, env_value(name, *kind, &raw)?);
        }

        let flag_values = [
            ("listen", flags.listen.clone()),
            ("public_url", flags.public_url.clone()),
            ("database_url", flags.database_url.clone()),
            (
                "data_dir",
                flags.data_dir.as_ref().map(|p| p.display().to_string()),
            ),
            ("log_format", flags.log_format.clone()),
        ];
        for (key, v) in flag_values {
            if let Some(v) = v {
                set_path(&mut table, key, toml::Value::String(v));
            }
        }
        let settings = Settings::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError(format!("settings: {}", e.message())))?;
        settings.validate()?;
        Ok((settings, report))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(u) = &self.public_url {
            gatehouse_core::validate::site_url(u)
                .map_err(|e| ConfigError(format!("public_url: {e}")))?;
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError("max_body_bytes must be at least 1024".into()));
        }
        if !(1..=600).contains(&self.oauth_code_ttl_secs) {
            return Err(ConfigError(
                "oauth_code_ttl_secs must be from 1 to 600 seconds".into(),
            ));
        }
        let t = &self.throttle;
        if t.pair_failures < 1
            || t.address_failures < 1
            || t.pair_base_secs < 1
            || t.pair_max_secs < t.pair_base_secs
            || t.address_window_secs < 1
        {
            return Err(ConfigError(
                "throttle: failures and windows must be positive, and pair_max_secs >= pair_base_secs".into(),
            ));
        }
        Ok(())
    }

    /// The database URL in effect: the setting, else `gatehouse.db` in the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("gatehouse.db").display()),
        }
    }

    /// The public URL in effect: the setting, else `http://` + the listen address.
    pub fn effective_public_url(&self) -> String {
        match &self.public_url {
            Some(u) => gatehouse_core::validate::site_url(u)
                .map(|(u, _)| u)
                .unwrap_or_else(|_| u.clone()),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn argon2_permits(&self) -> usize {
        if self.argon2_max_concurrency == 0 {
            num_cpus::get().max(1)
        } else {
            self.argon2_max_concurrency
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = std::env::temp_dir().join(format!("gh-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("g.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nsite_creation = \"any_user\"\n[throttle]\npair_failures = 5\n",
        )
        .unwrap();
        let dburl_file = dir.join("db-url");
        std::fs::write(&dburl_file, "postgres://u@db.internal/gatehouse\n").unwrap();
        let (s, report) = Settings::load(
            Some(&file),
            &env(&[
                ("GATEHOUSE_LISTEN", "127.0.0.1:9001"),
                ("GATEHOUSE_THROTTLE__PAIR_FAILURES", "7"),
                ("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1/32"),
                ("GATEHOUSE_BOGUS", "1"),
                ("GATEHOUSE_SECRET_KEY_FILE", "/etc/gatehouse/key"),
                ("GATEHOUSE_DATABASE_URL_FILE", dburl_file.to_str().unwrap()),
                ("PATH", "/bin"),
            ]),
            &Overrides {
                listen: Some("127.0.0.1:9002".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.listen.port(), 9002);
        assert_eq!(s.site_creation, SiteCreation::AnyUser);
        assert_eq!(s.throttle.pair_failures, 7);
        assert_eq!(s.trusted_proxies.len(), 2);
        assert_eq!(
            s.secret_key_file.as_deref(),
            Some(Path::new("/etc/gatehouse/key"))
        );
        assert_eq!(
            s.database_url.as_deref(),
            Some("postgres://u@db.internal/gatehouse"),
            "*_FILE reads the value"
        );
        assert_eq!(
            report.warnings,
            vec!["ignoring unknown environment variable GATEHOUSE_BOGUS"]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unknown_file_keys_and_bad_values_are_errors() {
        let dir = std::env::temp_dir().join(format!("gh-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("g.toml");
        std::fs::write(&file, "lsiten = \"x\"\n").unwrap();
        let e = Settings::load(Some(&file), &[], &Overrides::default()).unwrap_err();
        assert!(e.0.contains("lsiten"), "{e}");
        let e = Settings::load(
            None,
            &env(&[("GATEHOUSE_ALLOW_INSECURE_HTTP", "maybe")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(e.0.contains("boolean"), "{e}");
        let e = Settings::load(
            None,
            &[],
            &Overrides {
                public_url: Some("ftp://x".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.0.contains("public_url"), "{e}");
        std::fs::write(&file, "trusted_proxies = [\"10.0.0.0/33\"]\n").unwrap();
        let e = Settings::load(Some(&file), &[], &Overrides::default()).unwrap_err();
        assert!(e.0.contains("trusted_proxies entry \"10.0.0.0/33\""), "{e}");
        std::fs::write(&file, "trusted_proxy_header = \"x-real-ip\"\n").unwrap();
        let e = Settings::load(Some(&file), &[], &Overrides::default()).unwrap_err();
        assert!(e.0.contains("x-forwarded-for"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn proxies_may_be_bare_addresses_and_the_header_any_case() {
        let (s, _) = Settings::load(
            None,
            &env(&[
                ("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1, ::1, 10.0.0.0/8"),
                ("GATEHOUSE_TRUSTED_PROXY_HEADER", "Forwarded"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        let nets: Vec<String> = s.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(nets, vec!["127.0.0.1/32", "::1/128", "10.0.0.0/8"]);
        assert_eq!(s.trusted_proxy_header, ProxyHeader::Forwarded);
        let (s, _) = Settings::load(
            None,
            &env(&[("GATEHOUSE_TRUSTED_PROXY_HEADER", "X-Forwarded-For")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(s.trusted_proxy_header, ProxyHeader::XForwardedFor);
    }
}
