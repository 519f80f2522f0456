//! Loading the server key (SPEC §2): from `GATEHOUSE_SECRET_KEY` (64 hex characters) or a key
//! file (default: beside the SQLite file, else in the data directory; `secret_key_file`).
//! A missing file is created with `O_EXCL` and mode 0600 (the CLI and the server may race on first
//! run: the loser reads the winner's key); a file readable by group/others or owned by another user
//! is refused. The database records the key's fingerprint: a different key refuses to start
//! instead of silently invalidating every credential. Randomness: OS RNG (`ServerKey::generate`).

use crate::config::Settings;
use gatehouse_core::clock::Timestamp;
use gatehouse_core::secrets::{Keyring, ServerKey};
use gatehouse_core::store::Store;
use std::io::Write;
use std::path::PathBuf;

/// The key version new hashes use. Rotation adds versions; see the README.
pub const KEY_VERSION: i64 = 1;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// Where the key file lives when `secret_key_file` is not set.
pub fn default_key_path(settings: &Settings) -> PathBuf {
    let url = settings.effective_database_url();
    if !gatehouse_store::is_postgres_url(&url) {
        let path = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                return parent.join("secret.key");
            }
        }
    }
    settings.data_dir.join("secret.key")
}

/// Loads (or on first use creates) the server key. `env_hex` is `GATEHOUSE_SECRET_KEY`.
pub fn load(settings: &Settings, env_hex: Option<&str>) -> Result<ServerKey, KeyError> {
    if let Some(hex) = env_hex {
        return ServerKey::from_hex(hex).ok_or_else(|| {
            KeyError("GATEHOUSE_SECRET_KEY must be 64 hexadecimal characters (32 bytes)".into())
        });
    }
    let path = settings
        .secret_key_file
        .clone()
        .unwrap_or_else(|| default_key_path(settings));
    match create_new(&path) {
        Ok(key) => return Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(KeyError(format!(
                "cannot create the key file {}: {e}",
                path.display()
            )))
        }
    }
    check_file(&path)?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| KeyError(format!("cannot read the key file {}: {e}", path.display())))?;
    ServerKey::from_hex(&text).ok_or_else(|| {
        KeyError(format!(
            "the key file {} does not hold 64 hexadecimal characters",
            path.display()
        ))
    })
}

fn create_new(path: &std::path::Path) -> std::io::Result<ServerKey> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    let key = ServerKey::generate();
    f.write_all(format!("{}\n", key.to_hex()).as_bytes())?;
    f.sync_all()?;
    Ok(key)
}

#[cfg(unix)]
fn check_file(path: &std::path::Path) -> Result<(), KeyError> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| KeyError(format!("cannot read the key file {}: {e}", path.display())))?;
    if meta.mode() & 0o077 != 0 {
        return Err(KeyError(format!(
            "the key file {} is readable by group or others (mode {:o}); run chmod 600 on it",
            path.display(),
            meta.mode() & 0o777
        )));
    }
    let me = rustix::process::getuid().as_raw();
    if meta.uid() != me {
        return Err(KeyError(format!(
            "the key file {} is owned by uid {}, not by this user (uid {me})",
            path.display(),
            meta.uid()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_file(_path: &std::path::Path) -> Result<(), KeyError> {
    Ok(())
}

/// Records the key's fingerprint on first use and refuses a different key afterwards.
pub async fn verify(
    store: &dyn Store,
    key: &ServerKey,
    now: Timestamp,
) -> Result<Keyring, KeyError> {
    let mine = key.fingerprint();
    let recorded = store
        .record_key_fingerprint(KEY_VERSION, &mine, now)
        .await
        .map_err(|e| KeyError(format!("cannot check the server key: {e}")))?;
    if recorded != mine {
        return Err(KeyError(format!(
            "the server key (fingerprint {mine}) is not the key this database was set up with \
             (fingerprint {recorded}); restore the original key file or GATEHOUSE_SECRET_KEY"
        )));
    }
    Ok(Keyring::new(key, KEY_VERSION))
}
