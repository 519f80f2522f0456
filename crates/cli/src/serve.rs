//! `gatehouse serve` (SPEC §10, §11): binds, seeds the demo on an empty database (`--demo`), and
//! prints a banner that names the log-in page. On a database that already has users, `--demo`
//! says how to get in again (`user set-password`) and how to start over, with the real paths.
//! A busy address is named with the flag that changes it. Time: the system clock.

use crate::output::{redact_url, shell_word};
use crate::{Failure, GlobalArgs};
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::store::Store;
use gatehouse_server::config::Settings;
use gatehouse_server::{app, demo, telemetry, AppState, Application};
use std::net::SocketAddr;
use std::sync::Arc;

/// The global flags as given, to repeat in a suggested command (a password in a URL redacted).
fn global_flags(g: &GlobalArgs) -> String {
    let mut out = String::new();
    if let Some(c) = &g.config {
        out.push_str(&format!(
            " --config {}",
            shell_word(&c.display().to_string())
        ));
    }
    if let Some(u) = &g.database_url {
        out.push_str(&format!(" --database-url {}", shell_word(&redact_url(u))));
    }
    if let Some(d) = &g.data_dir {
        out.push_str(&format!(
            " --data-dir {}",
            shell_word(&d.display().to_string())
        ));
    }
    out
}

/// How to throw the database away and begin again, for the database in use: a shell command,
/// or (PostgreSQL) what to do.
fn start_over(settings: &Settings) -> String {
    let path_word = |p: &std::path::Path| {
        let shown = if p.is_relative() && !p.starts_with(".") && !p.starts_with("..") {
            format!("./{}", p.display())
        } else {
            p.display().to_string()
        };
        shell_word(&shown)
    };
    match &settings.database_url {
        None => format!("rm -rf {}", path_word(&settings.data_dir)),
        Some(u) if gatehouse_store::is_postgres_url(u) => {
            "(empty the PostgreSQL database: drop it and create it again)".to_string()
        }
        Some(u) => {
            let file = u
                .strip_prefix("sqlite://")
                .or_else(|| u.strip_prefix("sqlite:"))
                .unwrap_or(u);
            let file = file.split('?').next().unwrap_or(file);
            let f = path_word(std::path::Path::new(file));
            format!("rm -f {f} {f}-wal {f}-shm")
        }
    }
}

/// This program as the user started it: a path when they ran it by path (`target/release/gatehouse`
/// after `cargo run`), else `gatehouse`.
fn program() -> String {
    match std::env::args().next() {
        Some(p) if p.contains('/') => shell_word(&p),
        _ => "gatehouse".to_string(),
    }
}

/// The note `serve --demo` prints when the database already has users.
async fn existing_data_note(store: &dyn Store, settings: &Settings, g: &GlobalArgs) -> String {
    // The demo's network admin is `admin`; on any other database, the first enabled network admin.
    let mut admin_login = None;
    if let Ok(users) = store.list_users(0, 1000).await {
        let admins: Vec<_> = users
            .iter()
            .filter(|u| u.network_admin && !u.disabled)
            .collect();
        admin_login = admins
            .iter()
            .find(|u| u.login == "admin")
            .or(admins.first())
            .map(|u| u.login.clone());
    }
    let login = admin_login.unwrap_or_else(|| "LOGIN".into());
    let gatehouse = format!("{}{}", program(), global_flags(g));
    format!(
        "note: this database already has users, so no demo data was created (the demo's passwords are shown only on the first run).\n\
         \x20 To log in again, give {login} a new password (typed, then Enter):\n\
         \x20   {gatehouse} user set-password {} --password-stdin\n\
         \x20 To start over with fresh demo data, stop the server, then:\n\
         \x20   {}\n\
         \x20   {gatehouse} serve --demo",
        shell_word(&login),
        start_over(settings),
    )
}

/// A bind failure in words: a busy address names `--listen` and suggests the next port.
fn bind_failure(addr: SocketAddr, e: &std::io::Error) -> Failure {
    let message = match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            let mut next = addr;
            next.set_port(if addr.port() == u16::MAX { 8081 } else { addr.port() + 1 });
            format!("{addr} is already in use; choose another address with --listen, e.g. --listen {next}")
        }
        std::io::ErrorKind::PermissionDenied => format!(
            "cannot listen on {addr}: permission denied (ports below 1024 need privileges); choose another address with --listen, e.g. --listen 127.0.0.1:8080"
        ),
        std::io::ErrorKind::AddrNotAvailable => format!(
            "cannot listen on {addr}: no network interface has that address; choose another with --listen, e.g. --listen 127.0.0.1:8080"
        ),
        _ => format!("cannot listen on {addr}: {e}"),
    };
    Failure { code: 1, message }
}

pub async fn serve(
    settings: &mut Settings,
    store: Arc<dyn Store>,
    keys: gatehouse_core::secrets::Keyring,
    demo_mode: bool,
    globals: &GlobalArgs,
) -> Result<(), Failure> {
    telemetry::init_logging(settings.log_format, &settings.log_level);
    let clock = Arc::new(SystemClock);
    // Bind first, so that without --public-url the public URL is the address really bound
    // (also with `--listen 127.0.0.1:0`).
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| bind_failure(settings.listen, &e))?;
    let addr = listener.local_addr().map_err(|e| Failure {
        code: 1,
        message: e.to_string(),
    })?;
    settings.listen = addr;
    let public = settings.effective_public_url();
    let mut try_it = None;
    if demo_mode {
        match demo::seed(store.as_ref(), &keys, &public, clock.now()).await? {
            Some(d) => try_it = Some(demo::try_it(&d, &public)),
            None => eprintln!(
                "{}",
                existing_data_note(store.as_ref(), settings, globals).await
            ),
        }
    }
    let state = AppState::new(store, clock, settings.clone(), keys);
    let app = Application::from_listener(listener, state);
    tracing::info!(%addr, public_url = %public, database = app.state().store.backend(), "gatehouse listening");
    if let Some(t) = try_it {
        println!("\n{t}");
    }
    println!(
        "Gatehouse is listening on http://{addr} (public URL {public}). Log in at {public}/login. Stop with Ctrl-C."
    );
    app.run(app::shutdown_signal()).await.map_err(|e| Failure {
        code: 1,
        message: format!("server error: {e}"),
    })
}
