//! The `gatehouse` binary (SPEC §10): `serve`, `migrate` and the admin commands, which call `core`
//! and `store` directly, as the server does. Every command opens (and migrates) the database.
//! Bad input: one line on stderr naming what is wrong, exit status 2, nothing written — input is
//! validated before the database is opened. Time: the system clock.

use clap::{Args, Parser, Subcommand};
use gatehouse_core::admin::{self, AdminError, UserSpec};
use gatehouse_core::caps::Role;
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::store::Store;
use gatehouse_server::config::{Overrides, Settings};
use gatehouse_server::{app, demo, keys, telemetry, AppState, Application};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "gatehouse",
    version,
    about = "Authentication and authorization for WordPress-style REST APIs"
)]
struct Cli {
    /// TOML settings file (unknown keys are an error).
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database: postgres://…, sqlite://… or a file path [default: DATA_DIR/gatehouse.db].
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Directory for the SQLite database [default: ./gatehouse-data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage sites.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Manage API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Manage application passwords.
    #[command(subcommand, name = "app-password")]
    AppPassword(AppPasswordCommand),
    /// Revoke credentials: one API key, or every API key and application password of a user.
    Revoke(RevokeArgs),
    /// Manage the server key.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// Add a new server key version to the key file: new hashes use it; credentials hashed with
    /// older versions keep working. Restart the servers afterwards.
    Rotate,
}

#[derive(Subcommand, Debug)]
enum ApiKeyCommand {
    /// Create a user key (--user) or a read-only site key (--site without --user).
    Create {
        /// The user the key acts as.
        #[arg(long)]
        user: Option<String>,
        /// Limit the key to this site (id or URL); for a site key, the site it reads.
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        description: String,
        /// Scope (repeatable): posts, posts:read, comments, sites:read, sites:write, auth, global.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Allowed HTTP method (repeatable); default all.
        #[arg(long = "method")]
        methods: Vec<String>,
        /// Lifetime in seconds; default: until revoked.
        #[arg(long)]
        expires_in: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AppPasswordCommand {
    /// Create an application password for a user.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
struct RevokeArgs {
    /// Revoke one API key by id.
    #[arg(long)]
    api_key_id: Option<i64>,
    /// Revoke every API key and application password of a user.
    #[arg(long)]
    user: Option<String>,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// The URL clients use to reach this server (the primary site's URL).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// On an empty database, create demo users, a site and posts, and print how to try them.
    #[arg(long)]
    demo: bool,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a user.
    Add {
        login: String,
        #[arg(long)]
        email: String,
        #[arg(
            long,
            conflicts_with = "password_stdin",
            required_unless_present = "password_stdin"
        )]
        password: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        display_name: Option<String>,
        /// Make the user a network admin (super admin of every site).
        #[arg(long)]
        network_admin: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum SiteCommand {
    /// Create a site; its owner becomes its administrator.
    Add {
        name: String,
        #[arg(long)]
        url: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        json: bool,
    },
    /// Give a user a role on a site (administrator, editor, author, contributor, subscriber), or
    /// take it away with `--role none`.
    Member {
        site: String,
        login: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a site's settings.
    Set {
        site: String,
        #[arg(long, value_name = "true|false")]
        require_auth: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        url: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// A failure with the exit status it deserves.
struct Failure {
    code: u8,
    message: String,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        message: message.into(),
    }
}

impl From<AdminError> for Failure {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Store(s) => Failure {
                code: 1,
                message: s.to_string(),
            },
            other => usage(other.to_string()),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::from(
                    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        2
                    } else {
                        0
                    },
                );
            }
            // One line: clap's message without the usage block that follows it.
            let rendered = e.render().to_string();
            let line = rendered
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty() && !l.starts_with("Usage:"))
                .collect::<Vec<_>>()
                .join(" ");
            if line.is_empty() {
                eprintln!("error: invalid arguments");
            } else {
                eprintln!("{line}");
            }
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn parse_bool(flag: &str, v: &str) -> Result<bool, Failure> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err(usage(format!("{flag} must be true or false, not {v:?}"))),
    }
}

/// `--role` of `site member`: a role, or `none` to take the user's role away.
fn parse_member_role(v: &str) -> Result<Option<Role>, Failure> {
    if v.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    Role::parse(v).map(Some).ok_or_else(|| {
        usage(format!(
            "unknown role {v:?}; use administrator, editor, author, contributor, subscriber, or none to remove the user's role"
        ))
    })
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // 1. Validate the command's own input before touching anything.
    let mut user_spec = None;
    let mut key_spec = None;
    let mut site_patch = None;
    match &cli.command {
        Command::User(UserCommand::Add {
            login,
            email,
            password,
            password_stdin,
            display_name,
            network_admin,
            ..
        }) => {
            let password = match (password, password_stdin) {
                (Some(p), _) => p.clone(),
                (None, true) => {
                    let stdin = std::io::stdin();
                    if stdin.is_terminal() {
                        eprintln!("password: ");
                    }
                    let mut line = String::new();
                    stdin
                        .lock()
                        .read_line(&mut line)
                        .map_err(|e| usage(format!("cannot read the password from stdin: {e}")))?;
                    line.trim_end_matches(['\n', '\r']).to_string()
                }
                (None, false) => return Err(usage("give --password or --password-stdin")),
            };
            let spec = UserSpec {
                login: login.clone(),
                email: email.clone(),
                display_name: display_name.clone(),
                password,
                network_admin: *network_admin,
            };
            spec.validate()?;
            user_spec = Some(spec);
        }
        Command::Site(SiteCommand::Add { name, url, .. }) => {
            admin::site_patch(Some(name), Some(url), None)?;
        }
        Command::ApiKey(ApiKeyCommand::Create {
            user,
            site,
            description,
            scopes,
            methods,
            expires_in,
            ..
        }) => {
            if user.is_none() && site.is_none() {
                return Err(usage(
                    "api-key create needs --user (a user key) or --site (a site key)",
                ));
            }
            let spec = api_key_spec(
                user.is_some(),
                site.is_some(),
                description,
                scopes,
                methods,
                *expires_in,
            );
            gatehouse_core::credentials::validate_api_key(&spec)?;
            key_spec = Some(spec);
        }
        Command::AppPassword(AppPasswordCommand::Create { name, .. }) => {
            gatehouse_core::credentials::app_password_name(name)?;
        }
        Command::Site(SiteCommand::Member { role, .. }) => {
            parse_member_role(role)?;
        }
        Command::Site(SiteCommand::Set {
            require_auth,
            name,
            url,
            ..
        }) => {
            let ra = require_auth
                .as_deref()
                .map(|v| parse_bool("--require-auth", v))
                .transpose()?;
            if ra.is_none() && name.is_none() && url.is_none() {
                return Err(usage(
                    "site set needs at least one of --require-auth, --name, --url",
                ));
            }
            site_patch = Some(admin::site_patch(name.as_deref(), url.as_deref(), ra)?);
        }
        _ => {}
    }

    // 2. Settings: defaults < file < environment < flags.
    let (listen, public_url) = match &cli.command {
        Command::Serve(s) => (s.listen.clone(), s.public_url.clone()),
        _ => (None, None),
    };
    let env: Vec<(String, String)> = std::env::vars().collect();
    let (mut settings, report) = Settings::load(
        cli.config.as_deref(),
        &env,
        &Overrides {
            listen,
            public_url,
            database_url: cli.database_url.clone(),
            data_dir: cli.data_dir.clone(),
            log_format: cli.log_format.clone(),
        },
    )
    .map_err(|e| usage(e.0))?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }

    // 3. Open (and migrate) the database.
    let url = settings.effective_database_url();
    if settings.database_url.is_none() {
        create_data_dir(&settings.data_dir)?;
    }
    let store = gatehouse_store::connect(&url).await.map_err(|e| Failure {
        code: 1,
        message: format!("cannot open the database: {e}"),
    })?;
    let clock = SystemClock;
    let now = clock.now();
    let s: &dyn Store = store.as_ref();

    match cli.command {
        Command::Migrate => {
            println!("migrations applied ({})", s.backend());
            Ok(())
        }
        Command::Serve(args) => {
            let keys = keyring(&settings, s, now).await?;
            serve(&mut settings, store, keys, args.demo).await
        }
        Command::User(UserCommand::Add { json, .. }) => {
            let Some(spec) = user_spec else {
                return Err(usage("missing user input"));
            };
            let u = admin::add_user(s, &spec, now).await?;
            if json {
                print_json(&gatehouse_proto::UserCreated {
                    id: u.id.0,
                    login: u.login,
                });
            } else {
                println!("created user {} (id {})", u.login, u.id.0);
            }
            Ok(())
        }
        Command::ApiKey(ApiKeyCommand::Create {
            user, site, json, ..
        }) => {
            let Some(mut spec) = key_spec else {
                return Err(usage("missing API key input"));
            };
            let keys = keyring(&settings, s, now).await?;
            let user = match &user {
                Some(l) => Some(admin::find_user(s, l).await?),
                None => None,
            };
            let site = match &site {
                Some(x) => Some(admin::find_site(s, x).await?),
                None => None,
            };
            spec.user = user.as_ref().map(|u| u.id);
            spec.site = site.as_ref().map(|x| x.id);
            spec.created_by = match (&user, &site) {
                (Some(u), _) => u.id,
                (None, Some(x)) => x.owner_id,
                (None, None) => return Err(usage("api-key create needs --user or --site")),
            };
            let (key, secret) =
                gatehouse_core::credentials::create_api_key(s, &keys, &spec, now).await?;
            if json {
                print_json(&serde_json::json!({ "id": key.id.0, "key": secret.expose_secret() }));
            } else {
                println!(
                    "API key {} ({}) created. It is shown only now:\n{}",
                    key.id.0,
                    key.kind.as_str(),
                    secret.expose_secret()
                );
            }
            Ok(())
        }
        Command::AppPassword(AppPasswordCommand::Create { user, name, json }) => {
            let keys = keyring(&settings, s, now).await?;
            let user = admin::find_user(s, &user).await?;
            let (pw, secret) =
                gatehouse_core::credentials::create_app_password(s, &keys, user.id, &name, "", now)
                    .await?;
            let grouped = gatehouse_core::secrets::group_app_password(secret.expose_secret());
            if json {
                print_json(&serde_json::json!({ "uuid": pw.uuid, "password": grouped }));
            } else {
                println!("application password {:?} for {} created ({}). It is shown only now:\n{grouped}", pw.name, user.login, pw.uuid);
            }
            Ok(())
        }
        Command::Key(KeyCommand::Rotate) => {
            keyring(&settings, s, now).await?;
            let env = std::env::var("GATEHOUSE_SECRET_KEY").ok();
            let (material, version) =
                keys::rotate(&settings, env.as_deref()).map_err(|e| Failure {
                    code: 1,
                    message: e.0,
                })?;
            keys::verify(s, &material, now).await.map_err(|e| Failure {
                code: 1,
                message: e.0,
            })?;
            println!("server key rotated: new hashes use version {version}; restart running servers to use it");
            Ok(())
        }
        Command::Revoke(RevokeArgs { api_key_id, user }) => {
            if let Some(id) = api_key_id {
                if !s
                    .revoke_api_key(gatehouse_core::model::ApiKeyId(id), now)
                    .await
                    .map_err(store_failure)?
                {
                    return Err(usage(format!("no active API key with id {id}")));
                }
                println!("revoked API key {id}");
            }
            if let Some(login) = user {
                let u = admin::find_user(s, &login).await?;
                let keys = s
                    .revoke_user_api_keys(u.id, now)
                    .await
                    .map_err(store_failure)?;
                let pws = s.delete_app_passwords(u.id).await.map_err(store_failure)?;
                println!(
                    "revoked {keys} API keys and {pws} application passwords of {}",
                    u.login
                );
            }
            Ok(())
        }
        Command::Site(SiteCommand::Add {
            name,
            url,
            owner,
            json,
        }) => {
            let owner = admin::find_user(s, &owner).await?;
            let site = admin::add_site(s, &name, &url, owner.id, now).await?;
            if json {
                print_json(&gatehouse_proto::SiteCreated {
                    id: site.id.0,
                    name: site.name,
                    url: site.url,
                });
            } else {
                println!("created site {} {} (id {})", site.name, site.url, site.id.0);
            }
            Ok(())
        }
        Command::Site(SiteCommand::Member {
            site,
            login,
            role,
            json,
        }) => {
            let role = parse_member_role(&role)?;
            let site = admin::find_site(s, &site).await?;
            let user = admin::find_user(s, &login).await?;
            match role {
                Some(role) => admin::set_member(s, site.id, user.id, role).await?,
                None => {
                    admin::remove_member(s, site.id, user.id).await?;
                }
            }
            let name = role.map(Role::as_str);
            if json {
                print_json(
                    &serde_json::json!({ "site_id": site.id.0, "user_id": user.id.0, "role": name }),
                );
            } else if let Some(r) = name {
                println!("{} is now {r} on {}", user.login, site.url);
            } else {
                println!("{} has no role on {} now", user.login, site.url);
            }
            Ok(())
        }
        Command::Site(SiteCommand::Set { site, json, .. }) => {
            let Some(patch) = site_patch else {
                return Err(usage("missing site settings"));
            };
            let site = admin::find_site(s, &site).await?;
            let site = admin::update_site(s, site.id, &patch).await?;
            if json {
                print_json(
                    &serde_json::json!({ "id": site.id.0, "name": site.name, "url": site.url, "require_auth": site.require_auth }),
                );
            } else {
                println!(
                    "site {}: name {:?}, url {}, require_auth {}",
                    site.id.0, site.name, site.url, site.require_auth
                );
            }
            Ok(())
        }
    }
}

fn store_failure(e: gatehouse_core::store::StoreError) -> Failure {
    Failure {
        code: 1,
        message: e.to_string(),
    }
}

fn api_key_spec(
    has_user: bool,
    has_site: bool,
    description: &str,
    scopes: &[String],
    methods: &[String],
    expires_in: Option<i64>,
) -> gatehouse_core::credentials::ApiKeySpec {
    use gatehouse_core::model::{ApiKeyKind, SiteId, UserId};
    gatehouse_core::credentials::ApiKeySpec {
        kind: if has_user {
            ApiKeyKind::User
        } else {
            ApiKeyKind::Site
        },
        // Placeholders until the database is open; validation only needs their presence.
        user: has_user.then_some(UserId(0)),
        site: has_site.then_some(SiteId(0)),
        created_by: UserId(0),
        description: description.to_string(),
        scopes: scopes.to_vec(),
        methods: methods.to_vec(),
        expires_in,
    }
}

/// Loads the server key and checks it against the database's record (SPEC §2).
async fn keyring(
    settings: &Settings,
    store: &dyn Store,
    now: i64,
) -> Result<gatehouse_core::secrets::Keyring, Failure> {
    let env = std::env::var("GATEHOUSE_SECRET_KEY").ok();
    let key = keys::load(settings, env.as_deref()).map_err(|e| Failure {
        code: 1,
        message: e.0,
    })?;
    keys::verify(store, &key, now).await.map_err(|e| Failure {
        code: 1,
        message: e.0,
    })
}

fn print_json<T: serde::Serialize>(v: &T) {
    match serde_json::to_string(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: {e}"),
    }
}

fn create_data_dir(dir: &std::path::Path) -> Result<(), Failure> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| Failure {
        code: 1,
        message: format!("cannot create {}: {e}", dir.display()),
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

async fn serve(
    settings: &mut Settings,
    store: Arc<dyn Store>,
    keys: gatehouse_core::secrets::Keyring,
    demo_mode: bool,
) -> Result<(), Failure> {
    telemetry::init_logging(settings.log_format, &settings.log_level);
    let clock = Arc::new(SystemClock);
    // Bind first, so that without --public-url the public URL is the address really bound
    // (also with `--listen 127.0.0.1:0`).
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot listen on {}: {e}", settings.listen),
        })?;
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
            None => {
                eprintln!(
                    "note: the database already has users, so no demo data was created; \
                     the demo accounts' passwords were printed when they were created."
                );
            }
        }
    }
    let state = AppState::new(store, clock, settings.clone(), keys);
    let app = Application::from_listener(listener, state);
    tracing::info!(%addr, public_url = %public, database = app.state().store.backend(), "gatehouse listening");
    if let Some(t) = try_it {
        println!("\n{t}");
    }
    println!("Gatehouse is listening on http://{addr} (public URL {public}). Stop with Ctrl-C.");
    app.run(app::shutdown_signal()).await.map_err(|e| Failure {
        code: 1,
        message: format!("server error: {e}"),
    })
}
