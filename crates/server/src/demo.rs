//! `gatehouse serve --demo`: on an empty database, a demo site, a network admin, one user per
//! role, sample posts and a comment, through the same `core::admin` code the CLI uses; then a
//! "try it" block of curl commands that work against this server. Passwords come from the OS RNG
//! and are printed once; they are stored only as Argon2id hashes.

use gatehouse_core::admin::{self, AdminError, UserSpec};
use gatehouse_core::caps::Role;
use gatehouse_core::clock::Timestamp;
use gatehouse_core::credentials::{self, ApiKeySpec};
use gatehouse_core::model::*;
use gatehouse_core::password;
use gatehouse_core::secrets::{group_app_password, Keyring};
use gatehouse_core::store::Store;

#[derive(Debug, Clone)]
pub struct DemoUser {
    pub login: String,
    pub password: String,
    /// An application password, grouped as WordPress shows it.
    pub app_password: String,
    pub role: Role,
    pub network_admin: bool,
}

#[derive(Debug, Clone)]
pub struct Demo {
    pub site: Site,
    pub users: Vec<DemoUser>,
    /// The author's API key (`gak_`) and the site's read-only key (`gsk_`).
    pub user_key: String,
    pub site_key: String,
    /// A confidential OAuth 2.0 client (id, secret) and a public one (id), both redirecting to
    /// `DEMO_REDIRECT`.
    pub oauth_client: (String, String),
    pub public_client: String,
    /// A PKCE verifier and its S256 challenge, for the public client's walk-through.
    pub pkce: (String, String),
    /// An OAuth 1.0a application without a callback (oob): its key and secret.
    pub oauth1: (String, String),
}

/// Where the demo clients send the browser back (nothing listens there: the code is read from
/// the address bar).
pub const DEMO_REDIRECT: &str = "http://localhost:8000/callback";

/// Seeds the demo on an empty database; `None` when there are already users.
pub async fn seed(
    store: &dyn Store,
    keys: &Keyring,
    site_url: &str,
    now: Timestamp,
) -> Result<Option<Demo>, AdminError> {
    if store.count_users().await.map_err(AdminError::Store)? > 0 {
        return Ok(None);
    }
    let mut users = Vec::new();
    let mut ids = Vec::new();
    for role in Role::ALL {
        let network_admin = role == Role::Administrator;
        let login = if network_admin {
            "admin".to_string()
        } else {
            role.as_str().to_string()
        };
        let pw = password::generate(20);
        let u = admin::add_user(
            store,
            &UserSpec {
                login: login.clone(),
                email: format!("{login}@example.com"),
                display_name: Some(format!("Demo {}", role.as_str())),
                password: pw.clone(),
                network_admin,
            },
            now,
        )
        .await?;
        ids.push((u.id, role));
        let (_, app) = credentials::create_app_password(store, keys, u.id, "demo", "", now).await?;
        users.push(DemoUser {
            login,
            password: pw,
            app_password: group_app_password(app.expose_secret()),
            role,
            network_admin,
        });
    }
    let owner = ids[0].0;
    let site = admin::add_site(store, "Gatehouse Demo", site_url, owner, now).await?;
    for (id, role) in ids.iter().skip(1) {
        admin::set_member(store, site.id, *id, *role).await?;
    }
    let posts = [
        (
            "Hello world!",
            "Welcome to Gatehouse. This post is public.",
            PostStatus::Publish,
            ids[0].0,
        ),
        (
            "Editor's notes",
            "Editors can edit and publish anyone's posts.",
            PostStatus::Publish,
            ids[1].0,
        ),
        (
            "An author's story",
            "Authors publish and edit their own posts.",
            PostStatus::Publish,
            ids[2].0,
        ),
        (
            "A contributor's draft",
            "Contributors write drafts for review.",
            PostStatus::Draft,
            ids[3].0,
        ),
    ];
    let mut first = None;
    for (i, (title, content, status, author)) in posts.into_iter().enumerate() {
        let p = store
            .insert_post(
                &NewPost {
                    site_id: site.id,
                    author_id: author,
                    title: title.into(),
                    content: format!("<p>{content}</p>"),
                    excerpt: String::new(),
                    slug: if status == PostStatus::Publish {
                        crate::routes::wp::sanitize_title(title)
                    } else {
                        String::new()
                    },
                    status,
                    comments_open: true,
                    unfiltered: false,
                },
                now + i as i64,
            )
            .await
            .map_err(AdminError::Store)?;
        first.get_or_insert(p.id);
    }
    if let Some(post_id) = first {
        store
            .insert_comment(
                &NewComment {
                    site_id: site.id,
                    post_id,
                    parent: 0,
                    author_id: Some(ids[4].0),
                    author_name: "Demo subscriber".into(),
                    content: "A first comment.".into(),
                    unfiltered: false,
                    status: CommentStatus::Approved,
                },
                now + 10,
            )
            .await
            .map_err(AdminError::Store)?;
    }
    let key_spec = |kind, user: Option<UserId>, description: &str| ApiKeySpec {
        kind,
        user,
        site: Some(site.id),
        created_by: user.unwrap_or(owner),
        description: description.into(),
        scopes: Vec::new(),
        methods: Vec::new(),
        expires_in: None,
    };
    let (_, user_key) = credentials::create_api_key(
        store,
        keys,
        &key_spec(ApiKeyKind::User, Some(ids[2].0), "demo author key"),
        now,
    )
    .await?;
    let (_, site_key) = credentials::create_api_key(
        store,
        keys,
        &key_spec(ApiKeyKind::Site, None, "demo site key"),
        now,
    )
    .await?;
    use gatehouse_core::oauth2::{clients::ClientSpec, pkce, registry};
    let spec = |name: &str, public: bool, grants: &[&str]| ClientSpec {
        name: name.into(),
        description: "Created by serve --demo.".into(),
        public,
        redirect_uris: vec![DEMO_REDIRECT.into()],
        grants: grants.iter().map(|g| g.to_string()).collect(),
        ..ClientSpec::default()
    };
    let (web_app, secret) = registry::register(
        store,
        keys,
        &spec(
            "Demo web app",
            false,
            &["authorization_code", "refresh_token", "client_credentials"],
        ),
        owner,
        now,
    )
    .await?;
    let (spa, _) = registry::register(
        store,
        keys,
        &spec("Demo single-page app", true, &[]),
        owner,
        now,
    )
    .await?;
    let (desktop, desktop_secret) = gatehouse_core::oauth1::register(
        store,
        keys,
        &gatehouse_core::oauth1::ConsumerSpec {
            name: "Demo desktop client".into(),
            description: "An OAuth 1.0a client created by serve --demo.".into(),
            callback: None,
        },
        owner,
        now,
    )
    .await?;
    let verifier = password::generate(64);
    let challenge = pkce::s256(&verifier);
    Ok(Some(Demo {
        site,
        users,
        user_key: user_key.expose_secret().to_string(),
        site_key: site_key.expose_secret().to_string(),
        oauth_client: (
            web_app.client_id(),
            secret
                .map(|s| s.expose_secret().to_string())
                .unwrap_or_default(),
        ),
        public_client: spa.client_id(),
        pkce: (verifier, challenge),
        oauth1: (desktop.key, desktop_secret.expose_secret().to_string()),
    }))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The "try it" block printed after seeding.
pub fn try_it(demo: &Demo, base: &str) -> String {
    let app = |login: &str| {
        let u = demo.users.iter().find(|u| u.login == login);
        shell_quote(&format!(
            "{login}:{}",
            u.map(|u| u.app_password.as_str()).unwrap_or("")
        ))
    };
    let site_id = demo.site.id.0;
    let mut out = String::new();
    out.push_str("Demo data created. Credentials (shown only now; stored only as hashes):\n");
    out.push_str(&format!(
        "  {:<12} {:<22} {:<31} role\n",
        "login", "account password", "application password"
    ));
    for u in &demo.users {
        out.push_str(&format!(
            "  {:<12} {:<22} {:<31} {}{}\n",
            u.login,
            u.password,
            u.app_password,
            u.role.as_str(),
            if u.network_admin {
                ", network admin"
            } else {
                ""
            }
        ));
    }
    out.push_str(&format!(
        "  author's API key:   {}\n  site read-only key: {}\n",
        demo.user_key, demo.site_key
    ));
    out.push_str("\nTry it:\n");
    let lines = [
        format!("curl -s {base}/wp-json/wp/v2/posts"),
        format!("curl -s -u {} {base}/wp-json/wp/v2/users/me", app("editor")),
        format!(
            "curl -s -H 'Authorization: ApiKey {}' -H 'Content-Type: application/json' -d '{{\"title\":\"Hello from curl\",\"status\":\"publish\"}}' {base}/wp-json/wp/v2/posts",
            demo.user_key
        ),
        format!("curl -s -H 'Authorization: Bearer {}' '{base}/wp-json/wp/v2/posts?per_page=2'", demo.site_key),
        format!("curl -s -u {} {base}/wp-json/wp/v2/users/me/application-passwords", app("author")),
        format!("curl -s -u {} {base}/v1/sites", app("admin")),
        format!("curl -s -u {} {base}/rest/v1.1/me", app("admin")),
        format!("curl -s {base}/rest/v1.1/sites/{site_id}/posts/"),
    ];
    for l in lines {
        out.push_str("  ");
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str(&oauth_walkthrough(demo, base));
    out.push_str(&format!(
        "\nOAuth 1.0a (shown only now; the secret is stored sealed):\n\
         \x20 desktop client (oob): key {}, secret {}\n\
         \x20 Its three legs are {base}/oauth1/request, /oauth1/authorize and /oauth1/access;\n\
         \x20 the README's \"OAuth 1.0a\" section has a requests-oauthlib client to paste them into.\n",
        demo.oauth1.0, demo.oauth1.1
    ));
    out
}

/// The OAuth 2.0 code flow, step by step, with the demo clients (SPEC §3).
pub fn oauth_walkthrough(demo: &Demo, base: &str) -> String {
    let (id, secret) = &demo.oauth_client;
    let (verifier, challenge) = &demo.pkce;
    let redirect = form_urlencoded::byte_serialize(DEMO_REDIRECT.as_bytes()).collect::<String>();
    let site_id = demo.site.id.0;
    let client = shell_quote(&format!("{id}:{secret}"));
    let public = &demo.public_client;
    format!(
        "\nOAuth 2.0 (clients shown only now; the secret is stored only as a hash):\n\
         \x20 web app (confidential): client_id {id}, client_secret {secret}\n\
         \x20 single-page app (public, PKCE): client_id {public}\n\
         \x20 1. Open this in a browser, log in as author, and Allow:\n\
         \x20    {base}/oauth/authorize?client_id={id}&redirect_uri={redirect}&response_type=code&scope=posts&blog={site_id}&state=demo\n\
         \x20 2. The browser goes to {DEMO_REDIRECT}?code=…&state=demo&iss=… (nothing listens there).\n\
         \x20    Copy the code from the address bar:   CODE=…\n\
         \x20 3. Exchange it for tokens within 60 seconds:\n\
         \x20    curl -s -u {client} -d grant_type=authorization_code -d \"code=$CODE\" -d redirect_uri={DEMO_REDIRECT} {base}/oauth/token\n\
         \x20 4. Call the API with the access_token of the answer:   ACCESS=gat_…\n\
         \x20    curl -s -H \"Authorization: Bearer $ACCESS\" {base}/wp-json/wp/v2/users/me\n\
         \x20 5. Rotate the refresh_token of the answer for a new pair:   REFRESH=grt_…\n\
         \x20    curl -s -u {client} -d grant_type=refresh_token -d \"refresh_token=$REFRESH\" {base}/oauth/token\n\
         \x20 The public client does the same without a secret, with PKCE: add\n\
         \x20    &code_challenge={challenge}&code_challenge_method=S256 to the URL of step 1 (client_id={public}), then\n\
         \x20    curl -s -d client_id={public} -d grant_type=authorization_code -d \"code=$CODE\" -d redirect_uri={DEMO_REDIRECT} -d code_verifier={verifier} {base}/oauth/token\n\
         \x20 A token for the web app itself (client_credentials, acting as admin):\n\
         \x20    curl -s -u {client} -d grant_type=client_credentials -d scope=global {base}/oauth/token\n"
    )
}
