//! The `gatehouse` binary (SPEC §10): `serve`, `migrate` and the admin commands, which call `core`
//! and `store` directly, as the server does. Every command opens (and migrates) the database.
//! Bad input: one line on stderr naming the flag and the value and saying what would work, exit
//! status 2, nothing written — input is validated before the database is opened. Output for people
//! and `--json` live in `output`; list commands in `lists`; credentials in `credentials`; the
//! server in `serve`. Time: the system clock.

mod clients;
mod credentials;
mod lists;
mod oauth1;
mod output;
mod serve;

use clap::{Args, CommandFactory, Parser, Subcommand};
use gatehouse_core::admin::{self, AdminError, UserSpec};
use gatehouse_core::caps::Role;
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::credentials::MAX_EXPIRES_IN_SECS;
use gatehouse_core::store::{Store, StoreError};
use gatehouse_server::config::{Overrides, Settings};
use gatehouse_server::keys;
use output::print_json;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

const GLOBAL: &str = "Global options";

#[derive(Parser, Debug)]
#[command(
    name = "gatehouse",
    version,
    about = "Authentication and authorization for WordPress-style REST APIs",
    after_help = "Run 'gatehouse COMMAND --help' for a command's own options."
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command takes; shown after the command's own, under "Global options".
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// TOML settings file (unknown keys are an error).
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG", value_name = "FILE", help_heading = GLOBAL)]
    config: Option<PathBuf>,
    /// Database: a sqlite: URL (sqlite:///path/to/gatehouse.db), a postgres:// or postgresql:// URL,
    /// or a file path [default: DATA_DIR/gatehouse.db].
    #[arg(long, global = true, value_name = "URL", help_heading = GLOBAL)]
    database_url: Option<String>,
    /// Directory for the SQLite database and the server key [default: ./gatehouse-data].
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
    data_dir: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, global = true, value_name = "FORMAT", help_heading = GLOBAL)]
    log_format: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users: add, list, set-password.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage sites: add, list, member, set.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Manage API keys: create, list.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Manage application passwords: create, list.
    #[command(subcommand, name = "app-password")]
    AppPassword(AppPasswordCommand),
    /// Manage OAuth 2.0 clients: add, rotate-secret.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage OAuth 1.0a applications: add, list, delete.
    #[command(subcommand)]
    Oauth1(Oauth1Command),
    /// Revoke one API key, a client's tokens, one OAuth token, or everything a user holds.
    Revoke(RevokeArgs),
    /// Manage the server key.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Subcommand, Debug)]
enum Oauth1Command {
    /// Register an OAuth 1.0a application; prints `ID:`, `Key:` and `Secret:` (the secret only
    /// now) as the WP-API plugin's `wp oauth1 add` does.
    Add {
        /// The application's name, shown on the approval page.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// The registered callback URL (https, or http on 127.0.0.1/[::1]/localhost); without
        /// it the application can only use `oauth_callback=oob`.
        #[arg(long, value_name = "URL")]
        callback: Option<String>,
        /// A description shown on the approval page.
        #[arg(long, value_name = "TEXT", default_value = "")]
        description: String,
        /// The user who owns the application (login or email); defaults to the first network admin.
        #[arg(long, value_name = "LOGIN")]
        owner: Option<String>,
        /// Print {"id","key","secret"} as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List every OAuth 1.0a application with its key, owner and callback.
    List {
        /// Print {"applications":[…]} as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Delete an OAuth 1.0a application and every token it holds.
    Delete {
        /// The application's ID (from `oauth1 add` or `oauth1 list`).
        id: i64,
        /// Print {"id","deleted"} as one JSON object.
        #[arg(long)]
        json: bool,
    },
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
        /// The user the key acts as (login or email); makes a user key (gak_…).
        #[arg(long, value_name = "LOGIN")]
        user: Option<String>,
        /// Limit the key to this site (id or URL); without --user, make a read-only site key
        /// (gsk_…) for it.
        #[arg(long, value_name = "SITE")]
        site: Option<String>,
        /// What the key is for, shown in lists (1 to 200 characters).
        #[arg(long, value_name = "TEXT")]
        description: String,
        /// Scope (repeatable): posts, posts:read, comments, sites:read, sites:write, auth, global.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Allowed HTTP method (repeatable): GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE; default all.
        #[arg(long = "method", value_name = "METHOD")]
        methods: Vec<String>,
        /// Lifetime in seconds, 1 to 315360000 (10 years); default: until revoked.
        #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
        expires_in: Option<String>,
        /// Site keys only: the administrator the key is attributed to; it works only while they
        /// administer the site (or are a network admin) [default: the site's owner].
        #[arg(long, value_name = "LOGIN")]
        created_by: Option<String>,
        /// Print {"id","key"} as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List API keys (never their secrets): every key on the server, or one user's or one site's.
    List {
        /// Only keys that act as this user or that they created (login or email).
        #[arg(long, value_name = "LOGIN", conflicts_with = "site")]
        user: Option<String>,
        /// Only keys limited to this site (id or URL).
        #[arg(long, value_name = "SITE")]
        site: Option<String>,
        /// Print {"api_keys":[…]} as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AppPasswordCommand {
    /// Create an application password for a user.
    Create {
        /// Whose password it is (login or email).
        #[arg(long, value_name = "LOGIN")]
        user: String,
        /// A name for it, unique for the user (e.g. the app that will use it).
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Print {"uuid","password"} as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List a user's application passwords (never the passwords).
    List {
        /// Whose passwords to list (login or email).
        #[arg(long, value_name = "LOGIN")]
        user: String,
        /// Print {"user","app_passwords":[…]} as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ClientCommand {
    /// Register an OAuth 2.0 client; a confidential client's secret is printed once.
    Add {
        /// The application's name, shown on the consent page.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// A redirect URI (repeatable): https, or http on 127.0.0.1, [::1] or localhost (any port).
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// A public client (a single-page or native app): no secret; PKCE is required.
        #[arg(long)]
        public: bool,
        /// Who owns the client (login or email) [default: the first network admin].
        #[arg(long, value_name = "LOGIN")]
        owner: Option<String>,
        /// What the application does, shown on the consent page.
        #[arg(long, value_name = "TEXT", default_value = "")]
        description: String,
        /// A grant the client may use (repeatable; replaces the default authorization_code refresh_token).
        #[arg(long = "grant", value_name = "GRANT", value_parser = ["authorization_code", "refresh_token", "implicit", "password", "client_credentials"])]
        grants: Vec<String>,
        /// Shorthand for --grant implicit.
        #[arg(long)]
        allow_implicit: bool,
        /// A resource server: it may introspect every client's tokens at /oauth/introspect.
        #[arg(long)]
        introspect_any: bool,
        /// Access-token lifetime in seconds; 0 = until revoked, with no refresh token (confidential clients only) [default: 3600].
        #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
        token_ttl: Option<i64>,
        /// Print {"client_id","client_secret"?} as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Replace a confidential client's secret; the old one stops working at once.
    RotateSecret {
        /// The client's id.
        #[arg(value_name = "CLIENT_ID")]
        client_id: String,
        /// Print {"client_secret"} as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
struct RevokeArgs {
    #[command(flatten)]
    target: RevokeTarget,
    /// Print what was revoked as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
struct RevokeTarget {
    /// Revoke one API key (user or site key) by id.
    #[arg(long, value_name = "ID")]
    api_key_id: Option<i64>,
    /// Revoke everything a user holds: their API keys, the site keys attributed to them, their
    /// application passwords, their OAuth 2.0 and OAuth 1.0a authorizations and their sessions.
    #[arg(long, value_name = "LOGIN")]
    user: Option<String>,
    /// Revoke every authorization of an OAuth 2.0 client, and so all its tokens.
    #[arg(long, value_name = "CLIENT_ID")]
    client: Option<String>,
    /// Revoke the OAuth 2.0 access or refresh token read from standard input (a refresh token
    /// ends every token of its authorization).
    #[arg(long)]
    token_stdin: bool,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address and port to listen on, e.g. 127.0.0.1:8080, or 0.0.0.0:8080 for every interface
    /// [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// The URL clients use to reach this server (the primary site's URL).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// On an empty database, create demo users, a site and posts, and print how to try them.
    #[arg(long)]
    demo: bool,
}

/// `--password P` or `--password-stdin`, as `user add` and `user set-password` take them.
#[derive(Args, Debug)]
struct PasswordArgs {
    /// The password (8 to 1024 characters). It shows in the process list and shell history;
    /// prefer --password-stdin.
    #[arg(long, value_name = "PASSWORD", conflicts_with = "password_stdin")]
    password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a user.
    Add {
        /// Login name (unique, case-insensitive).
        login: String,
        /// Email address (unique; either it or the login logs in).
        #[arg(long, value_name = "EMAIL")]
        email: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// Name shown on posts and pages [default: the login].
        #[arg(long, value_name = "NAME")]
        display_name: Option<String>,
        /// Make the user a network admin (super admin of every site).
        #[arg(long)]
        network_admin: bool,
        /// Print {"id","login"} as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List every user.
    List {
        /// Print {"users":[…]} as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Set a user's account password and end their sessions (they log in again).
    SetPassword {
        /// The user's login or email.
        login: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// Print {"id","login"} as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// `--role` of `site member`: the five roles, or `none` to take the user's role away.
const ROLE_VALUES: [&str; 6] = [
    "administrator",
    "editor",
    "author",
    "contributor",
    "subscriber",
    "none",
];

#[derive(Subcommand, Debug)]
enum SiteCommand {
    /// Create a site; its owner becomes its administrator.
    Add {
        /// The site's name, shown in lists and on consent pages.
        name: String,
        /// The site's URL (http or https; its host must be unique).
        #[arg(long, value_name = "URL")]
        url: String,
        /// The user who owns and administers the site (login or email).
        #[arg(long, value_name = "LOGIN")]
        owner: String,
        /// Print {"id","name","url"} as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List every site with its owner and members.
    List {
        /// Print {"sites":[…]} as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Give a user a role on a site, or take it away with `--role none`.
    Member {
        /// The site (id or URL).
        site: String,
        /// The user (login or email).
        login: String,
        /// The role to give: administrator, editor, author, contributor or subscriber; or none to
        /// take the user's role away.
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Print {"site_id","user_id","role"} as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Change a site's settings.
    Set {
        /// The site (id or URL).
        site: String,
        /// Whether every REST request to the site must authenticate.
        #[arg(long, value_name = "true|false")]
        require_auth: Option<String>,
        /// A new name.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// A new URL (its host must be unique).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Print the site's settings as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// A failure with the exit status it deserves.
pub struct Failure {
    code: u8,
    message: String,
}

/// Bad input: exit status 2.
pub fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        message: message.into(),
    }
}

impl From<AdminError> for Failure {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Store(s) => s.into(),
            other => usage(other.to_string()),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure {
            code: 1,
            message: e.to_string(),
        }
    }
}

/// The command whose `--help` fits the words on the command line (`gatehouse user`).
fn help_path(args: &[String]) -> String {
    let root = Cli::command();
    let takes_value = |cmd: &clap::Command, long: &str| {
        cmd.get_arguments()
            .chain(root.get_arguments())
            .any(|a| a.get_long() == Some(long) && a.get_action().takes_values())
    };
    let mut cmd = root.clone();
    let mut path = vec!["gatehouse".to_string()];
    let mut words = args.iter().skip(1);
    while let Some(w) = words.next() {
        if let Some(long) = w.strip_prefix("--") {
            if !long.contains('=') && takes_value(&cmd, long) {
                words.next();
            }
            continue;
        }
        if w.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(w) {
            Some(sub) => {
                path.push(w.clone());
                let sub = sub.clone();
                cmd = sub;
            }
            None => break,
        }
    }
    path.join(" ")
}

/// clap's error as one line: the message, then its details and tips, then where help is.
fn one_line(e: &clap::Error, help: &str) -> String {
    let rendered = e.render().to_string();
    let mut head = String::new();
    let mut details = Vec::new();
    let mut in_usage = false;
    for line in rendered.lines() {
        let t = line.trim();
        if t.is_empty() {
            in_usage = false;
            continue;
        }
        if t.starts_with("Usage:") {
            in_usage = true;
            continue;
        }
        if in_usage || t.starts_with("For more information") {
            continue;
        }
        if head.is_empty() {
            head = t.to_string();
        } else {
            let t = t.strip_prefix("tip: ").unwrap_or(t);
            let t = t
                .strip_prefix('[')
                .and_then(|x| x.strip_suffix(']'))
                .unwrap_or(t);
            details.push(t.to_string());
        }
    }
    if head.is_empty() {
        head = "error: invalid arguments".into();
    }
    if !details.is_empty() {
        if head.ends_with(':') {
            head = format!("{head} {}", details.join(", "));
        } else {
            head = format!("{head}; {}", details.join("; "));
        }
    }
    format!("{head}; see '{help} --help'")
}

/// mimalloc: the profile of an authenticated request under load showed a sixth of the time in
/// glibc malloc's arena locks (futex waits between the runtime's threads); see
/// docs/design/performance.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let cli = match Cli::try_parse_from(&args) {
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
            eprintln!("{}", one_line(&e, &help_path(&args)));
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
        _ => Err(usage(format!("{flag} {v}: must be true or false"))),
    }
}

/// `--role` of `site member`: a role, or `none` to take the user's role away.
fn parse_member_role(v: &str) -> Result<Option<Role>, Failure> {
    if v.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    Role::parse(v).map(Some).ok_or_else(|| {
        usage(format!(
            "--role {v}: unknown role; use one of {} (none takes the user's role away)",
            ROLE_VALUES.join(", ")
        ))
    })
}

/// `--expires-in`: whole seconds within core's limit (negative values reach here to be named).
fn parse_expires_in(v: &str) -> Result<i64, Failure> {
    v.trim()
        .parse::<i64>()
        .ok()
        .filter(|s| (1..=MAX_EXPIRES_IN_SECS).contains(s))
        .ok_or_else(|| {
            usage(format!(
                "--expires-in {v}: must be a whole number of seconds from 1 to {MAX_EXPIRES_IN_SECS} (10 years)"
            ))
        })
}

/// `--listen`: an IP address and a port.
fn check_listen(v: &str) -> Result<(), Failure> {
    v.trim()
        .parse::<std::net::SocketAddr>()
        .map(|_| ())
        .map_err(|_| {
            let hint = if v.trim().to_ascii_lowercase().starts_with("localhost") {
                " (write 127.0.0.1 for localhost)"
            } else {
                ""
            };
            usage(format!(
                "--listen {v}: not an IP address and port{hint}; use e.g. --listen 127.0.0.1:8080 (or 0.0.0.0:8080 for every interface)"
            ))
        })
}

/// A database URL the stores open: `sqlite:`, `postgres://`/`postgresql://`, or a file path.
/// Anything else with a URL scheme (`mysql://…`) would otherwise be taken for a file name.
fn check_database_url(source: &str, v: &str) -> Result<(), Failure> {
    let scheme = v.split_once(':').map(|(s, _)| s).filter(|s| {
        s.len() > 1
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    });
    match scheme.map(str::to_ascii_lowercase).as_deref() {
        None | Some("sqlite" | "postgres" | "postgresql") => Ok(()),
        Some(_) => Err(usage(format!(
            "{source} {}: only sqlite: URLs (sqlite:///path/to/gatehouse.db), postgres:// or postgresql:// URLs, or a file path are accepted",
            output::redact_url(v)
        ))),
    }
}

/// The password of `user add` / `user set-password`: the flag, or the first line of stdin.
fn read_password(p: &PasswordArgs, command: &str) -> Result<String, Failure> {
    match (&p.password, p.password_stdin) {
        (Some(p), _) => Ok(p.clone()),
        (None, true) => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("password: ");
            }
            let mut line = String::new();
            stdin
                .lock()
                .read_line(&mut line)
                .map_err(|e| usage(format!("--password-stdin: cannot read standard input: {e}")))?;
            Ok(line.trim_end_matches(['\n', '\r']).to_string())
        }
        (None, false) => Err(usage(format!(
            "{command} needs a password: give --password PASSWORD, or --password-stdin to read it from standard input"
        ))),
    }
}

/// What the input checks produced, for the step that writes.
#[derive(Default)]
struct Checked {
    user_spec: Option<UserSpec>,
    password: Option<String>,
    key_spec: Option<gatehouse_core::credentials::ApiKeySpec>,
    site_patch: Option<gatehouse_core::model::SitePatch>,
    client_spec: Option<gatehouse_core::oauth2::clients::ClientSpec>,
    /// The token `revoke --token-stdin` read.
    token: Option<String>,
}

/// Step 1: everything that can be checked without the database.
fn check_input(cli: &Cli) -> Result<Checked, Failure> {
    let mut out = Checked::default();
    if let Some(u) = &cli.global.database_url {
        check_database_url("--database-url", u)?;
    }
    match &cli.command {
        Command::Serve(ServeArgs {
            listen: Some(l), ..
        }) => check_listen(l)?,
        Command::User(UserCommand::Add {
            login,
            email,
            password,
            display_name,
            network_admin,
            ..
        }) => {
            let spec = UserSpec {
                login: login.clone(),
                email: email.clone(),
                display_name: display_name.clone(),
                password: read_password(password, "user add")?,
                network_admin: *network_admin,
            };
            spec.validate()?;
            out.user_spec = Some(spec);
        }
        Command::User(UserCommand::SetPassword { password, .. }) => {
            let p = read_password(password, "user set-password")?;
            gatehouse_core::validate::new_password(&p)
                .map_err(|e| usage(format!("{}: {}", password_flag(password), e.0)))?;
            out.password = Some(p);
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
            created_by,
            ..
        }) => {
            if user.is_none() && site.is_none() {
                return Err(usage(
                    "api-key create needs --user LOGIN (a user key) or --site SITE (a read-only site key)",
                ));
            }
            if let (Some(_), Some(c)) = (user, created_by) {
                return Err(usage(format!(
                    "--created-by {c}: applies to site keys only (--site without --user); a user key is created by its user"
                )));
            }
            let expires_in = expires_in.as_deref().map(parse_expires_in).transpose()?;
            let spec = api_key_spec(
                user.is_some(),
                site.is_some(),
                description,
                scopes,
                methods,
                expires_in,
            );
            gatehouse_core::credentials::validate_api_key(&spec)?;
            out.key_spec = Some(spec);
        }
        Command::AppPassword(AppPasswordCommand::Create { name, .. }) => {
            gatehouse_core::credentials::app_password_name(name)?;
        }
        Command::Oauth1(Oauth1Command::Add {
            name,
            callback,
            description,
            ..
        }) => {
            // Each field alone, so the one line names the flag and the value.
            let check = |flag: &str, value: &str, spec: gatehouse_core::oauth1::ConsumerSpec| {
                gatehouse_core::oauth1::validate(&spec)
                    .map(|_| ())
                    .map_err(|e| usage(format!("{flag} {value:?}: {e}")))
            };
            let spec = gatehouse_core::oauth1::ConsumerSpec {
                name: name.clone(),
                ..Default::default()
            };
            check("--name", name, spec.clone())?;
            check(
                "--description",
                description,
                gatehouse_core::oauth1::ConsumerSpec {
                    description: description.clone(),
                    ..spec.clone()
                },
            )?;
            if let Some(c) = callback {
                check(
                    "--callback",
                    c,
                    gatehouse_core::oauth1::ConsumerSpec {
                        callback: Some(c.clone()),
                        ..spec
                    },
                )?;
            }
        }
        Command::Client(ClientCommand::Add {
            name,
            redirect_uris,
            public,
            description,
            grants,
            allow_implicit,
            token_ttl,
            introspect_any,
            ..
        }) => {
            let spec = gatehouse_core::oauth2::clients::ClientSpec {
                name: name.clone(),
                description: description.clone(),
                public: *public,
                redirect_uris: redirect_uris.clone(),
                grants: grants.clone(),
                allow_implicit: *allow_implicit,
                token_ttl: *token_ttl,
                introspect_any: *introspect_any,
            };
            gatehouse_core::oauth2::clients::validate(&spec)?;
            out.client_spec = Some(spec);
        }
        Command::Revoke(RevokeArgs { target, .. }) if target.token_stdin => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| usage(format!("--token-stdin: cannot read standard input: {e}")))?;
            out.token = Some(line.trim().to_string());
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
            out.site_patch = Some(admin::site_patch(name.as_deref(), url.as_deref(), ra)?);
        }
        _ => {}
    }
    Ok(out)
}

fn password_flag(p: &PasswordArgs) -> &'static str {
    if p.password.is_some() {
        "--password"
    } else {
        "--password-stdin"
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // 1. Validate the command's own input before touching anything.
    let checked = check_input(&cli)?;

    // 2. Settings: defaults < file < environment < flags.
    let (listen, public_url) = match &cli.command {
        Command::Serve(s) => (s.listen.clone(), s.public_url.clone()),
        _ => (None, None),
    };
    let env: Vec<(String, String)> = std::env::vars().collect();
    let (mut settings, report) = Settings::load(
        cli.global.config.as_deref(),
        &env,
        &Overrides {
            listen,
            public_url,
            database_url: cli.global.database_url.clone(),
            data_dir: cli.global.data_dir.clone(),
            log_format: cli.global.log_format.clone(),
        },
    )
    .map_err(|e| usage(e.0))?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(u) = &settings.database_url {
        // From the environment or the settings file (the flag was checked above).
        check_database_url("database_url", u)?;
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
            serve::serve(&mut settings, store, keys, args.demo, &cli.global).await
        }
        Command::User(UserCommand::Add { json, .. }) => {
            let Some(spec) = checked.user_spec else {
                return Err(usage("missing user input"));
            };
            let u = admin::add_user(s, &spec, now).await?;
            credentials::audit(
                s,
                now,
                "user.create",
                Some(&u),
                format!("added user {} <{}>", u.login, u.email),
            )
            .await;
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
        Command::User(UserCommand::List { json }) => lists::users(s, json).await,
        Command::User(UserCommand::SetPassword { login, json, .. }) => {
            let Some(password) = checked.password else {
                return Err(usage("missing password"));
            };
            let u = admin::find_user(s, &login).await?;
            let ended = admin::set_password(s, u.id, &password, now).await?;
            credentials::audit(
                s,
                now,
                "user.set_password",
                Some(&u),
                format!(
                    "password set for {} (#{}); {ended} sessions ended",
                    u.login, u.id.0
                ),
            )
            .await;
            if json {
                print_json(&gatehouse_proto::UserCreated {
                    id: u.id.0,
                    login: u.login,
                });
            } else if ended == 0 {
                println!(
                    "set the password of {} (id {}); they had no open sessions",
                    u.login, u.id.0
                );
            } else {
                println!(
                    "set the password of {} (id {}) and ended {} (they log in again with the new password)",
                    u.login,
                    u.id.0,
                    output::count(ended as usize, "session", "sessions")
                );
            }
            Ok(())
        }
        Command::ApiKey(ApiKeyCommand::Create {
            user,
            site,
            created_by,
            json,
            ..
        }) => {
            let Some(spec) = checked.key_spec else {
                return Err(usage("missing API key input"));
            };
            let keys = keyring(&settings, s, now).await?;
            credentials::create_api_key(
                s,
                &keys,
                credentials::CreateKey {
                    spec,
                    user,
                    site,
                    created_by,
                    json,
                },
                now,
            )
            .await
        }
        Command::ApiKey(ApiKeyCommand::List { user, site, json }) => {
            lists::api_keys(s, user.as_deref(), site.as_deref(), json, now).await
        }
        Command::AppPassword(AppPasswordCommand::Create { user, name, json }) => {
            let keys = keyring(&settings, s, now).await?;
            credentials::create_app_password(s, &keys, &user, &name, json, now).await
        }
        Command::AppPassword(AppPasswordCommand::List { user, json }) => {
            lists::app_passwords(s, &user, json).await
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
        Command::Revoke(RevokeArgs { target, json }) => {
            if let Some(id) = target.api_key_id {
                credentials::revoke_key(s, id, json, now).await
            } else if let Some(login) = target.user {
                credentials::revoke_user(s, &login, json, now).await
            } else if let Some(id) = target.client {
                clients::revoke_client(s, &id, json, now).await
            } else if target.token_stdin {
                let keys = keyring(&settings, s, now).await?;
                let token = checked.token.unwrap_or_default();
                clients::revoke_token(s, &keys, &token, json, now).await
            } else {
                Err(usage(
                    "revoke needs --api-key-id ID, --user LOGIN, --client CLIENT_ID or --token-stdin",
                ))
            }
        }
        Command::Client(ClientCommand::Add { owner, json, .. }) => {
            let Some(spec) = checked.client_spec else {
                return Err(usage("missing client input"));
            };
            let keys = keyring(&settings, s, now).await?;
            clients::add(s, &keys, &spec, owner.as_deref(), json, now).await
        }
        Command::Oauth1(Oauth1Command::Add {
            name,
            callback,
            description,
            owner,
            json,
        }) => {
            let spec = gatehouse_core::oauth1::ConsumerSpec {
                name,
                description,
                callback,
            };
            let keys = keyring(&settings, s, now).await?;
            oauth1::add(s, &keys, &spec, owner.as_deref(), json, now).await
        }
        Command::Oauth1(Oauth1Command::List { json }) => oauth1::list(s, json).await,
        Command::Oauth1(Oauth1Command::Delete { id, json }) => {
            oauth1::delete(s, id, json, now).await
        }
        Command::Client(ClientCommand::RotateSecret { client_id, json }) => {
            let keys = keyring(&settings, s, now).await?;
            clients::rotate_secret(s, &keys, &client_id, json, now).await
        }
        Command::Site(SiteCommand::Add {
            name,
            url,
            owner,
            json,
        }) => {
            let owner = credentials::user_of_flag(s, "--owner", &owner).await?;
            let site = admin::add_site(s, &name, &url, owner.id, now).await?;
            credentials::audit(
                s,
                now,
                "site.create",
                None,
                format!("added site “{}” at {}", site.name, site.url),
            )
            .await;
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
        Command::Site(SiteCommand::List { json }) => lists::sites(s, json).await,
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
            let words = match name {
                Some(r) => format!("{} is now {r} on “{}”", user.login, site.name),
                None => format!("{} no longer has a role on “{}”", user.login, site.name),
            };
            credentials::audit(s, now, "site.role", Some(&user), words).await;
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
            let Some(patch) = checked.site_patch else {
                return Err(usage("missing site settings"));
            };
            let site = admin::find_site(s, &site).await?;
            let site = admin::update_site(s, site.id, &patch).await?;
            credentials::audit(
                s,
                now,
                "site.update",
                None,
                format!(
                    "site “{}” set: url {}, {}",
                    site.name,
                    site.url,
                    if site.require_auth {
                        "authentication required for every REST request"
                    } else {
                        "public reads allowed"
                    }
                ),
            )
            .await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn database_urls_the_stores_open() {
        for ok in [
            "sqlite:///tmp/x.db",
            "sqlite:x.db",
            "postgres://u@h/db",
            "POSTGRESQL://u@h/db",
            "/tmp/x.db",
            "x.db",
            "C:\\data\\x.db",
        ] {
            assert!(check_database_url("--database-url", ok).is_ok(), "{ok}");
        }
        for bad in ["mysql://x", "mariadb://u:pw@h/db", "http://x", "file:x.db"] {
            let Err(f) = check_database_url("--database-url", bad) else {
                panic!("{bad} accepted");
            };
            assert_eq!(f.code, 2);
            assert!(f.message.starts_with("--database-url "), "{}", f.message);
            assert!(!f.message.contains(":pw@"), "the password is not echoed");
        }
    }

    #[test]
    fn expires_in_is_whole_seconds_within_ten_years() {
        assert_eq!(parse_expires_in("3600").ok(), Some(3600));
        assert_eq!(
            parse_expires_in(&MAX_EXPIRES_IN_SECS.to_string()).ok(),
            Some(MAX_EXPIRES_IN_SECS)
        );
        for bad in ["-5", "0", "1.5", "soon", "315360001"] {
            let Err(f) = parse_expires_in(bad) else {
                panic!("{bad} accepted");
            };
            assert!(f.message.starts_with(&format!("--expires-in {bad}:")));
        }
    }

    #[test]
    fn help_points_at_the_command_typed() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(help_path(&args("gatehouse usr")), "gatehouse");
        assert_eq!(
            help_path(&args("gatehouse --database-url user user ad")),
            "gatehouse user"
        );
        assert_eq!(
            help_path(&args("gatehouse api-key create --site 1")),
            "gatehouse api-key create"
        );
    }
}
