//! Loading the server key (SPEC §2): from `GATEHOUSE_SECRET_KEY` or a key file (default: beside
//! the SQLite file, else in the data directory; `secret_key_file`). The material holds one or
//! more versions — `<64 hex>` (version 1) or `v<N>:<64 hex>` per line (env: comma-separated);
//! the highest is current, older ones only verify hashes made before a rotation.
//! A missing file is created with `O_EXCL` and mode 0600 (the CLI and the server may race on first
//! run: the loser reads the winner's key); a file readable by group/others or owned by another user
//! is refused. The database records each version's fingerprint: a different key, or material that
//! lacks a version the database knows, refuses to start instead of silently invalidating
//! credentials. `rotate` adds a version. Randomness: OS RNG (`ServerKey::generate`).

use crate::config::Settings;
use gatehouse_core::clock::Timestamp;
use gatehouse_core::secrets::{Keyring, ServerKey};
use gatehouse_core::store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// Key material: (version, key), in the order given.
pub type Material = Vec<(i64, ServerKey)>;

/// Where the key file lives when `secret_key_file` is not set.
pub fn default_key_path(settings: &Settings) -> PathBuf {
    let url = settings.effective_database_url();
    if !gatehouse_store::is_postgres_url(&url) {
        let path = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                return parent.join("secret.key");
            }
        }
    }
    settings.data_dir.join("secret.key")
}

fn key_path(settings: &Settings) -> PathBuf {
    settings
        .secret_key_file
        .clone()
        .unwrap_or_else(|| default_key_path(settings))
}

/// Parses `hex` or `v<N>:hex` entries (lines or commas); `what` names the source in errors.
pub fn parse_material(text: &str, what: &str) -> Result<Material, KeyError> {
    let mut out: Material = Vec::new();
    for entry in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let (version, hex) = match entry.split_once(':') {
            Some((v, h)) => (
                v.strip_prefix('v')
                    .and_then(|n| n.parse::<i64>().ok())
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        KeyError(format!("{what}: {v:?} is not a key version like v2"))
                    })?,
                h,
            ),
            None => (1, entry),
        };
        let key = ServerKey::from_hex(hex).ok_or_else(|| {
            KeyError(format!(
                "{what} must hold 64 hexadecimal characters (32 bytes) per key"
            ))
        })?;
        if out.iter().any(|(v, _)| *v == version) {
            return Err(KeyError(format!(
                "{what} lists key version {version} twice"
            )));
        }
        out.push((version, key));
    }
    if out.is_empty() {
        return Err(KeyError(format!("{what} holds no key")));
    }
    Ok(out)
}

/// Loads (or on first use creates) the key material. `env` is `GATEHOUSE_SECRET_KEY`.
pub fn load(settings: &Settings, env: Option<&str>) -> Result<Material, KeyError> {
    if let Some(text) = env {
        return parse_material(text, "GATEHOUSE_SECRET_KEY");
    }
    let path = key_path(settings);
    match create_new(&path) {
        Ok(key) => return Ok(vec![(1, key)]),
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
    parse_material(&text, &format!("the key file {}", path.display()))
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
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
    opts.open(path)
}

fn create_new(path: &Path) -> std::io::Result<ServerKey> {
    let mut f = private_file(path)?;
    let key = ServerKey::generate();
    f.write_all(format!("{}\n", key.to_hex()).as_bytes())?;
    f.sync_all()?;
    Ok(key)
}

#[cfg(unix)]
fn check_file(path: &Path) -> Result<(), KeyError> {
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
fn check_file(_path: &Path) -> Result<(), KeyError> {
    Ok(())
}

/// Checks every version against the database (recording new ones) and builds the keyring.
pub async fn verify(
    store: &dyn Store,
    material: &Material,
    now: Timestamp,
) -> Result<Keyring, KeyError> {
    let known = store
        .list_key_versions()
        .await
        .map_err(|e| KeyError(format!("cannot check the server key: {e}")))?;
    if let Some(missing) = known
        .iter()
        .find(|v| !material.iter().any(|(m, _)| m == *v))
    {
        return Err(KeyError(format!(
            "this database uses server key version {missing}, which the key material lacks; \
             restore the key file or GATEHOUSE_SECRET_KEY that holds it"
        )));
    }
    for (version, key) in material {
        let mine = key.fingerprint();
        let recorded = store
            .record_key_fingerprint(*version, &mine, now)
            .await
            .map_err(|e| KeyError(format!("cannot check the server key: {e}")))?;
        if recorded != mine {
            return Err(KeyError(format!(
                "the server key version {version} (fingerprint {mine}) is not the key this database was set up with \
                 (fingerprint {recorded}); restore the original key file or GATEHOUSE_SECRET_KEY"
            )));
        }
    }
    Keyring::from_versions(material.clone()).ok_or_else(|| KeyError("no server key".into()))
}

/// Adds a new key version to the key file (written to a private temporary file, then renamed
/// over the old one). New hashes use it; older versions keep verifying what they hashed.
pub fn rotate(settings: &Settings, env: Option<&str>) -> Result<(Material, i64), KeyError> {
    if env.is_some() {
        return Err(KeyError(
            "the key comes from GATEHOUSE_SECRET_KEY: add a new version there yourself (v1:<hex>,v2:<hex>) \
             and give it to every instance"
                .into(),
        ));
    }
    let mut material = load(settings, None)?;
    let next = material.iter().map(|(v, _)| *v).max().unwrap_or(0) + 1;
    material.push((next, ServerKey::generate()));
    let path = key_path(settings);
    let tmp = path.with_extension(format!("key.{next}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let text: String = material
        .iter()
        .map(|(v, k)| format!("v{v}:{}\n", k.to_hex()))
        .collect();
    let write = || -> std::io::Result<()> {
        let mut f = private_file(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| KeyError(format!("cannot write the key file {}: {e}", path.display())))?;
    Ok((material, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn material_formats() {
        let hex = "01".repeat(32);
        assert_eq!(parse_material(&hex, "x").unwrap()[0].0, 1);
        let two = parse_material(&format!("v1:{hex}\nv2:{}\n", "02".repeat(32)), "x").unwrap();
        assert_eq!(two.iter().map(|(v, _)| *v).collect::<Vec<_>>(), vec![1, 2]);
        assert!(parse_material(&format!("v1:{hex},v1:{hex}"), "x").is_err());
        assert!(parse_material("v0:00", "x").is_err());
        assert!(parse_material("", "x").is_err());
        assert!(parse_material("zz", "x").is_err());
    }
}
