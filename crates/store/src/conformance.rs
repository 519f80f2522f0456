//! The checks every `Store` must pass, written once over `&dyn Store` and run against SQLite and
//! PostgreSQL by `tests/conformance.rs`. Each check starts from an empty, migrated database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_core::caps::Role;
use gatehouse_core::model::*;
#[allow(unused_imports)]
use gatehouse_core::model::{ApiKeyKind, NewApiKey, NewAppPassword, Scope};
use gatehouse_core::store::{AuditEvent, Store, StoreError};

fn new_user(login: &str, email: &str) -> NewUser {
    NewUser {
        login: login.into(),
        email: email.into(),
        display_name: login.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        network_admin: false,
    }
}

fn site(name: &str, host: &str) -> NewSite {
    NewSite {
        name: name.into(),
        url: format!("https://{host}"),
        host: host.into(),
    }
}

/// Logins and emails share one case-insensitive namespace; either finds the user.
pub async fn users_share_one_identifier_namespace(s: &dyn Store) {
    let a = s
        .insert_user(&new_user("Alice", "alice@example.com"), 10)
        .await
        .unwrap();
    assert_eq!(a.login, "Alice");
    assert_eq!(a.created_at, 10);
    assert!(matches!(
        s.insert_user(&new_user("ALICE", "other@example.com"), 11).await,
        Err(StoreError::Conflict(w)) if w == "login"
    ));
    assert!(matches!(
        s.insert_user(&new_user("bob", "Alice@Example.com"), 11).await,
        Err(StoreError::Conflict(w)) if w == "email"
    ));
    // A login may not equal another user's email.
    assert!(matches!(
        s.insert_user(&new_user("alice@example.com", "x@example.com"), 11)
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Nothing half-written: the failed inserts left no user behind.
    assert_eq!(s.count_users().await.unwrap(), 1);
    let by_login = s.find_user_auth("alice").await.unwrap().unwrap();
    let by_email = s
        .find_user_auth("ALICE@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_login.user.id, a.id);
    assert_eq!(by_email.user.id, a.id);
    assert!(by_login.password_hash.starts_with("$argon2id$"));
    assert!(s.find_user_auth("nobody").await.unwrap().is_none());
    assert_eq!(s.list_users(0, 10).await.unwrap(), vec![a.clone()]);
    s.set_user_disabled(a.id, true).await.unwrap();
    assert!(s.get_user(a.id).await.unwrap().disabled);
    assert!(matches!(
        s.get_user(UserId(999_999)).await,
        Err(StoreError::NotFound)
    ));
}

/// A password change replaces only that user's hash; an unknown user is `NotFound`.
pub async fn password_hash_is_replaced(s: &dyn Store) {
    let a = s
        .insert_user(&new_user("pw-a", "pw-a@example.com"), 1)
        .await
        .unwrap();
    s.insert_user(&new_user("pw-b", "pw-b@example.com"), 1)
        .await
        .unwrap();
    let new_hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA";
    s.set_user_password_hash(a.id, new_hash).await.unwrap();
    let got = s.find_user_auth("pw-a").await.unwrap().unwrap();
    assert_eq!(got.password_hash, new_hash);
    assert_eq!(got.user, a, "nothing else about the user changed");
    assert_eq!(
        s.find_user_auth("pw-b")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        new_user("pw-b", "").password_hash,
        "other users keep theirs"
    );
    assert!(matches!(
        s.set_user_password_hash(UserId(999_999), new_hash).await,
        Err(StoreError::NotFound)
    ));
}

/// A site is created with its owner as administrator; hosts are unique; roles can change.
pub async fn sites_and_roles(s: &dyn Store) {
    let owner = s
        .insert_user(&new_user("owner", "o@example.com"), 1)
        .await
        .unwrap();
    let ed = s
        .insert_user(&new_user("ed", "ed@example.com"), 1)
        .await
        .unwrap();
    let a = s
        .insert_site(&site("A", "a.example"), owner.id, 5)
        .await
        .unwrap();
    let b = s
        .insert_site(&site("B", "b.example"), ed.id, 6)
        .await
        .unwrap();
    assert!(matches!(
        s.insert_site(&site("A2", "a.example"), owner.id, 7).await,
        Err(StoreError::Conflict(w)) if w == "host"
    ));
    assert_eq!(
        s.find_role(a.id, owner.id).await.unwrap(),
        Some(Role::Administrator)
    );
    assert_eq!(s.find_role(a.id, ed.id).await.unwrap(), None);
    s.set_role(a.id, ed.id, Role::Author).await.unwrap();
    s.set_role(a.id, ed.id, Role::Editor).await.unwrap();
    assert_eq!(s.find_role(a.id, ed.id).await.unwrap(), Some(Role::Editor));
    assert_eq!(
        s.find_site_by_host("A.EXAMPLE").await.unwrap().unwrap().id,
        a.id
    );
    assert_eq!(s.find_first_site().await.unwrap().unwrap().id, a.id);
    let (all, total) = s.list_sites(None, 0, 100).await.unwrap();
    assert_eq!((all.len(), total), (2, 2));
    let (mine, total) = s.list_sites(Some(ed.id), 0, 1).await.unwrap();
    assert_eq!((mine.len(), total), (1, 2));
    let (users, total) = s.list_site_users(a.id, false, 0, 10).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(users[0].1, Role::Administrator);
    let patched = s
        .update_site(
            b.id,
            &SitePatch {
                require_auth: Some(true),
                name: Some("Bee".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(patched.require_auth);
    assert_eq!(patched.name, "Bee");
    assert_eq!(patched.host, "b.example");
    assert!(matches!(
        s.update_site(
            b.id,
            &SitePatch {
                url_and_host: Some(("https://a.example".into(), "a.example".into())),
                ..Default::default()
            }
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    s.delete_site(b.id).await.unwrap();
    assert!(matches!(s.get_site(b.id).await, Err(StoreError::NotFound)));
    assert!(matches!(
        s.delete_site(b.id).await,
        Err(StoreError::NotFound)
    ));
}

/// Posts filter by status, search and author, count totals, update and delete with comments.
pub async fn posts_and_comments(s: &dyn Store) {
    let u = s
        .insert_user(&new_user("writer", "w@example.com"), 1)
        .await
        .unwrap();
    let other = s
        .insert_user(&new_user("other", "x@example.com"), 1)
        .await
        .unwrap();
    let site = s
        .insert_site(&site("S", "s.example"), u.id, 1)
        .await
        .unwrap();
    let mk = |title: &str, status: PostStatus, author: UserId| NewPost {
        site_id: site.id,
        author_id: author,
        title: title.into(),
        content: format!("body of {title}"),
        excerpt: String::new(),
        slug: title.to_lowercase(),
        status,
        comments_open: true,
        unfiltered: false,
    };
    let p1 = s
        .insert_post(&mk("Hello 100%", PostStatus::Publish, u.id), 100)
        .await
        .unwrap();
    s.insert_post(&mk("Second", PostStatus::Publish, u.id), 200)
        .await
        .unwrap();
    s.insert_post(&mk("Draft", PostStatus::Draft, u.id), 300)
        .await
        .unwrap();
    s.insert_post(&mk("Other draft", PostStatus::Draft, other.id), 400)
        .await
        .unwrap();
    let filter = |statuses: Vec<PostStatus>| PostFilter {
        statuses,
        search: None,
        author: None,
        nonpublic_only_by: None,
        offset: 0,
        limit: 10,
        order_asc: false,
    };
    let (posts, total) = s
        .list_posts(site.id, &filter(vec![PostStatus::Publish]))
        .await
        .unwrap();
    assert_eq!(total, 2);
    assert_eq!(posts[0].title, "Second", "newest first");
    let mut f = filter(vec![PostStatus::Publish, PostStatus::Draft]);
    f.nonpublic_only_by = Some(u.id);
    assert_eq!(s.list_posts(site.id, &f).await.unwrap().1, 3);
    let mut f = filter(vec![PostStatus::Publish]);
    f.search = Some("100%".into());
    assert_eq!(s.list_posts(site.id, &f).await.unwrap().1, 1);
    f.search = Some("_".into());
    assert_eq!(
        s.list_posts(site.id, &f).await.unwrap().1,
        0,
        "_ is literal"
    );
    let mut f = filter(vec![PostStatus::Publish]);
    f.limit = 1;
    f.offset = 1;
    f.order_asc = true;
    let (page, total) = s.list_posts(site.id, &f).await.unwrap();
    assert_eq!(
        (page.len(), total, page[0].title.as_str()),
        (1, 2, "Second")
    );

    let updated = s
        .update_post(
            site.id,
            p1.id,
            &PostPatch {
                title: Some("Renamed".into()),
                status: Some(PostStatus::Trash),
                ..Default::default()
            },
            500,
        )
        .await
        .unwrap();
    assert_eq!(updated.title, "Renamed");
    assert_eq!(updated.status, PostStatus::Trash);
    assert_eq!(updated.content, p1.content);
    assert_eq!((updated.created_at, updated.modified_at), (100, 500));
    assert!(!updated.unfiltered);

    // The unfiltered-HTML mark survives writers who hold it and ends with the first who does not.
    let mut raw = mk("Raw", PostStatus::Publish, u.id);
    raw.unfiltered = true;
    let raw = s.insert_post(&raw, 510).await.unwrap();
    assert!(raw.unfiltered);
    let by_admin = PostPatch {
        title: Some("Raw 2".into()),
        writer_unfiltered: true,
        ..Default::default()
    };
    assert!(
        s.update_post(site.id, raw.id, &by_admin, 520)
            .await
            .unwrap()
            .unfiltered
    );
    let by_editor = PostPatch {
        status: Some(PostStatus::Draft),
        ..Default::default()
    };
    assert!(
        !s.update_post(site.id, raw.id, &by_editor, 530)
            .await
            .unwrap()
            .unfiltered
    );
    assert!(
        !s.update_post(site.id, raw.id, &by_admin, 540)
            .await
            .unwrap()
            .unfiltered,
        "once sanitised, stays sanitised"
    );

    let c = s
        .insert_comment(
            &NewComment {
                site_id: site.id,
                post_id: p1.id,
                parent: 0,
                author_id: Some(other.id),
                author_name: "other".into(),
                content: "Nice".into(),
                status: CommentStatus::Approved,
                unfiltered: false,
            },
            600,
        )
        .await
        .unwrap();
    let cf = CommentFilter {
        post: Some(p1.id),
        public_posts_only: false,
        status: CommentStatus::Approved,
        offset: 0,
        limit: 10,
    };
    let (comments, total) = s.list_comments(site.id, &cf).await.unwrap();
    assert_eq!((comments, total), (vec![c], 1));
    let public = CommentFilter {
        post: None,
        public_posts_only: true,
        ..cf.clone()
    };
    assert_eq!(
        s.list_comments(site.id, &public).await.unwrap().1,
        0,
        "p1 is in the trash now"
    );
    s.delete_post(site.id, p1.id).await.unwrap();
    assert!(matches!(
        s.get_post(site.id, p1.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.list_comments(site.id, &cf).await.unwrap().1,
        0,
        "comments go with the post"
    );
}

/// Throttle counters count atomically, restart after their window, block and clear.
pub async fn throttle_counters(s: &dyn Store) {
    let k = "pair:alice|127.0.0.1".to_string();
    for i in 1..=3 {
        assert_eq!(s.throttle_fail(&k, 1000, 300).await.unwrap().failures, i);
    }
    assert_eq!(
        s.throttle_get(std::slice::from_ref(&k)).await.unwrap()[0].blocked_until,
        0
    );
    s.throttle_block(&k, 1030).await.unwrap();
    s.throttle_block(&k, 1010).await.unwrap(); // never shortens a block
    let rows = s.throttle_get(&[k.clone(), "other".into()]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].failures, rows[0].blocked_until), (3, 1030));
    // window elapsed: counting restarts
    let c = s.throttle_fail(&k, 2000, 300).await.unwrap();
    assert_eq!((c.failures, c.window_start), (1, 2000));
    s.throttle_clear(&k).await.unwrap();
    assert_eq!(s.throttle_fail(&k, 2001, 300).await.unwrap().failures, 1);
    // concurrent failures are all counted
    let key = "addr:10.0.0.1".to_string();
    let futs = (0..20).map(|_| s.throttle_fail(&key, 3000, 300));
    for r in futures_util::future::join_all(futs).await {
        r.unwrap();
    }
    assert_eq!(s.throttle_fail(&key, 3000, 300).await.unwrap().failures, 21);
}

/// An account-password check is counted as in flight before it is made, in one atomic
/// statement: of a burst of parallel attempts exactly the pair's budget goes ahead; failures
/// settle into the count and the one reaching the threshold blocks in the same write; after a
/// block one check at a time goes ahead and each failure doubles the block; a success forgets
/// failures and block; an unchecked attempt gives its place back; places of checks that never
/// settle (a dead instance) lapse.
pub async fn throttle_attempts(s: &dyn Store) {
    use gatehouse_core::store::Settled;
    use gatehouse_core::throttle::ThrottlePolicy;
    let policy = ThrottlePolicy {
        pair_failures: 3,
        pair_base_secs: 30,
        pair_max_secs: 100,
        ..ThrottlePolicy::default()
    };
    let row = |k: String| async move { s.throttle_get(&[k]).await.unwrap().remove(0) };
    let attempt = |k: &'static str, now: i64| s.throttle_attempt(k, now, 86_400, &policy);
    let k = "pair:burst|10.0.0.9";
    let went = futures_util::future::join_all((0..20).map(|_| attempt(k, 1000)))
        .await
        .into_iter()
        .filter(|r| r.as_ref().unwrap().is_some())
        .count();
    assert_eq!(went, 3, "exactly the budget goes ahead");
    let r = row(k.into()).await;
    assert_eq!((r.failures, r.pending, r.blocked_until), (0, 3, 0));
    assert_eq!(
        attempt(k, 1000).await.unwrap(),
        None,
        "no room while three are in flight"
    );
    let settle = |now: i64, outcome: Settled| s.throttle_settle(k, now, outcome, &policy);
    assert_eq!(settle(1000, Settled::Failed).await.unwrap(), 1);
    assert_eq!(
        attempt(k, 1000).await.unwrap(),
        None,
        "one failure and two in flight fill a budget of three"
    );
    assert_eq!(settle(1000, Settled::Failed).await.unwrap(), 2);
    assert_eq!(row(k.into()).await.blocked_until, 0);
    assert_eq!(settle(1000, Settled::Failed).await.unwrap(), 3);
    let r = row(k.into()).await;
    assert_eq!((r.failures, r.pending, r.blocked_until), (3, 0, 1030));
    assert_eq!(attempt(k, 1029).await.unwrap(), None, "blocked");
    // After the block: one check at a time; each failure doubles the block up to the ceiling.
    assert!(attempt(k, 1030).await.unwrap().is_some());
    assert_eq!(attempt(k, 1030).await.unwrap(), None);
    assert_eq!(settle(1030, Settled::Failed).await.unwrap(), 4);
    assert_eq!(row(k.into()).await.blocked_until, 1090);
    assert!(attempt(k, 1090).await.unwrap().is_some());
    assert_eq!(settle(1090, Settled::Failed).await.unwrap(), 5);
    assert_eq!(row(k.into()).await.blocked_until, 1190);
    // A success forgets failures and block; the full budget is back.
    assert!(attempt(k, 1190).await.unwrap().is_some());
    assert_eq!(settle(1190, Settled::Succeeded).await.unwrap(), 0);
    let r = row(k.into()).await;
    assert_eq!((r.failures, r.pending, r.blocked_until), (0, 0, 0));
    // An unchecked attempt gives its place back and counts nothing.
    for _ in 0..3 {
        assert!(attempt(k, 1200).await.unwrap().is_some());
    }
    assert_eq!(settle(1200, Settled::Unchecked).await.unwrap(), 0);
    assert!(attempt(k, 1200).await.unwrap().is_some());
    // Places never settled (an instance died mid-check) lapse after a while.
    assert_eq!(attempt(k, 1201).await.unwrap(), None);
    assert!(attempt(k, 1200 + 31).await.unwrap().is_some());
    // Failures long past count as none.
    let k2 = "pair:old|10.0.0.9";
    assert!(s
        .throttle_attempt(k2, 5000, 86_400, &policy)
        .await
        .unwrap()
        .is_some());
    for _ in 0..2 {
        s.throttle_settle(k2, 5000, Settled::Failed, &policy)
            .await
            .unwrap();
        s.throttle_attempt(k2, 5000, 86_400, &policy).await.unwrap();
    }
    let later = 5000 + 86_401;
    let c = s
        .throttle_attempt(k2, later, 86_400, &policy)
        .await
        .unwrap();
    assert_eq!(c.map(|c| c.failures), Some(0));
    // A threshold of one blocks from the first failure.
    let one = ThrottlePolicy {
        pair_failures: 1,
        ..policy.clone()
    };
    let k3 = "pair:one|10.0.0.9";
    assert!(s
        .throttle_attempt(k3, 3000, 86_400, &one)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        s.throttle_attempt(k3, 3000, 86_400, &one).await.unwrap(),
        None
    );
    s.throttle_settle(k3, 3000, Settled::Failed, &one)
        .await
        .unwrap();
    assert_eq!(row(k3.into()).await.blocked_until, 3030);
}

/// Audit events are kept newest first; a user's page holds only events they did or that were done
/// to them, and is filled from the query (never short because others' events came first).
pub async fn audit_log(s: &dyn Store) {
    let ev = |at: i64, user: Option<i64>, target: Option<i64>| AuditEvent {
        at,
        event: "test.event".into(),
        user_id: user.map(UserId),
        login: Some("alice".into()),
        address: Some("127.0.0.1".into()),
        detail: format!("n={at}"),
        target_user_id: target.map(UserId),
    };
    s.insert_audit(&ev(0, Some(7), None)).await.unwrap();
    s.insert_audit(&ev(1, Some(1), Some(7))).await.unwrap();
    for i in 2..12 {
        s.insert_audit(&ev(i, Some(1), None)).await.unwrap();
    }
    let events = s.list_audit(None, 2).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].at, 11);
    let mine = s.list_audit(Some(UserId(7)), 2).await.unwrap();
    assert_eq!(
        mine.iter().map(|e| e.at).collect::<Vec<_>>(),
        vec![1, 0],
        "the user's own and the one done to them, despite ten newer events of others"
    );
    assert_eq!(mine[0].target_user_id, Some(UserId(7)));
    assert_eq!(mine[0].user_id, Some(UserId(1)));
    s.ping().await.unwrap();
}

/// The server key's fingerprint is recorded once; later calls return the first one.
pub async fn key_fingerprints(s: &dyn Store) {
    assert_eq!(
        s.record_key_fingerprint(1, "aaaa", 10).await.unwrap(),
        "aaaa"
    );
    assert_eq!(
        s.record_key_fingerprint(1, "bbbb", 11).await.unwrap(),
        "aaaa"
    );
    assert_eq!(
        s.record_key_fingerprint(2, "cccc", 12).await.unwrap(),
        "cccc"
    );
    assert_eq!(s.list_key_versions().await.unwrap(), vec![1, 2]);
}

/// API keys are found by hash, listed, revoked once, and touched at most once per interval.
pub async fn api_keys(s: &dyn Store) {
    let u = s
        .insert_user(&new_user("keyholder", "k@example.com"), 1)
        .await
        .unwrap();
    let site = s
        .insert_site(&site("K", "k.example"), u.id, 1)
        .await
        .unwrap();
    let new = NewApiKey {
        kind: ApiKeyKind::User,
        user_id: Some(u.id),
        site_id: Some(site.id),
        created_by: u.id,
        description: "deploy".into(),
        scopes: Some(vec![Scope::Posts, Scope::SitesRead]),
        methods: Some(vec!["GET".into(), "POST".into()]),
        expires_at: Some(5000),
        hash: "h1".into(),
        key_version: 1,
    };
    let k = s.insert_api_key(&new, 100).await.unwrap();
    assert_eq!(k.scopes, Some(vec![Scope::Posts, Scope::SitesRead]));
    assert_eq!(k.methods, Some(vec!["GET".to_string(), "POST".to_string()]));
    let site_key = s
        .insert_api_key(
            &NewApiKey {
                kind: ApiKeyKind::Site,
                user_id: None,
                scopes: None,
                methods: None,
                expires_at: None,
                hash: "h2".into(),
                ..new.clone()
            },
            101,
        )
        .await
        .unwrap();
    assert!(
        matches!(
            s.insert_api_key(&new, 102).await,
            Err(StoreError::Backend(_) | StoreError::Conflict(_))
        ),
        "hashes are unique"
    );
    let found = s.find_api_key_by_hash("h1").await.unwrap().unwrap();
    assert_eq!((found.key.id, found.hash.as_str()), (k.id, "h1"));
    assert_eq!(
        found.user.map(|x| (x.login, x.created_at)),
        Some(("keyholder".to_string(), 1))
    );
    // A site key is joined with its creator and the creator's role on its site, in one look-up.
    assert_eq!(
        found.site_role,
        Some(Role::Administrator),
        "the site's owner"
    );
    let sk = s.find_api_key_by_hash("h2").await.unwrap().unwrap();
    assert_eq!(sk.user.map(|x| x.login), Some("keyholder".to_string()));
    assert_eq!(sk.site_role, Some(Role::Administrator));
    s.set_role(site.id, u.id, Role::Subscriber).await.unwrap();
    let sk = s.find_api_key_by_hash("h2").await.unwrap().unwrap();
    assert_eq!(sk.site_role, Some(Role::Subscriber), "follows a demotion");
    assert_eq!(
        s.list_site_api_keys(site.id)
            .await
            .unwrap()
            .iter()
            .map(|k| k.id)
            .collect::<Vec<_>>(),
        vec![site_key.id],
        "only the site's site keys"
    );
    assert!(s.find_api_key_by_hash("nope").await.unwrap().is_none());
    assert_eq!(s.list_api_keys(u.id).await.unwrap().len(), 2);
    s.touch_api_key(k.id, 200, "127.0.0.1", 60).await.unwrap();
    s.touch_api_key(k.id, 230, "10.0.0.1", 60).await.unwrap();
    let got = s.get_api_key(k.id).await.unwrap();
    assert_eq!(
        (got.last_used_at, got.last_ip.as_deref()),
        (Some(200), Some("127.0.0.1")),
        "at most once a minute"
    );
    s.touch_api_key(k.id, 260, "10.0.0.2", 60).await.unwrap();
    assert_eq!(s.get_api_key(k.id).await.unwrap().last_used_at, Some(260));
    assert!(s.revoke_api_key(k.id, 300).await.unwrap());
    assert!(!s.revoke_api_key(k.id, 301).await.unwrap());
    assert_eq!(
        s.find_api_key_by_hash("h1")
            .await
            .unwrap()
            .unwrap()
            .key
            .revoked_at,
        Some(300)
    );
    assert_eq!(s.list_api_keys(u.id).await.unwrap().len(), 1);
    assert_eq!(s.revoke_user_api_keys(u.id, 400).await.unwrap(), 1);
    assert_eq!(
        s.get_api_key(site_key.id).await.unwrap().revoked_at,
        Some(400)
    );
}

/// The operator's key inventory: every key, revoked and expired ones too, oldest first, filtered
/// in the query by user (acting as or created by) and by site.
pub async fn api_key_inventory(s: &dyn Store) {
    let alice = s
        .insert_user(&new_user("inv-alice", "inv-a@example.com"), 1)
        .await
        .unwrap();
    let bob = s
        .insert_user(&new_user("inv-bob", "inv-b@example.com"), 1)
        .await
        .unwrap();
    let one = s
        .insert_site(&site("One", "one.example"), alice.id, 1)
        .await
        .unwrap();
    let two = s
        .insert_site(&site("Two", "two.example"), bob.id, 1)
        .await
        .unwrap();
    let key =
        |kind, user: Option<UserId>, site: Option<SiteId>, by: UserId, hash: &str| NewApiKey {
            kind,
            user_id: user,
            site_id: site,
            created_by: by,
            description: hash.to_string(),
            scopes: None,
            methods: None,
            expires_at: None,
            hash: hash.into(),
            key_version: 1,
        };
    let a_any = s
        .insert_api_key(
            &key(ApiKeyKind::User, Some(alice.id), None, alice.id, "i1"),
            10,
        )
        .await
        .unwrap();
    let a_one = s
        .insert_api_key(
            &key(
                ApiKeyKind::User,
                Some(alice.id),
                Some(one.id),
                alice.id,
                "i2",
            ),
            11,
        )
        .await
        .unwrap();
    let one_site = s
        .insert_api_key(
            &key(ApiKeyKind::Site, None, Some(one.id), alice.id, "i3"),
            12,
        )
        .await
        .unwrap();
    let b_two = s
        .insert_api_key(
            &key(ApiKeyKind::User, Some(bob.id), Some(two.id), bob.id, "i4"),
            13,
        )
        .await
        .unwrap();
    let two_site = s
        .insert_api_key(&key(ApiKeyKind::Site, None, Some(two.id), bob.id, "i5"), 14)
        .await
        .unwrap();
    assert!(s.revoke_api_key(a_any.id, 20).await.unwrap());
    let ids = |keys: Vec<ApiKey>| keys.into_iter().map(|k| k.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.list_all_api_keys(None, None).await.unwrap()),
        vec![a_any.id, a_one.id, one_site.id, b_two.id, two_site.id],
        "every key, revoked ones too, oldest first"
    );
    let all = s.list_all_api_keys(None, None).await.unwrap();
    assert_eq!(all[0].revoked_at, Some(20));
    assert_eq!(
        ids(s.list_all_api_keys(Some(alice.id), None).await.unwrap()),
        vec![a_any.id, a_one.id, one_site.id],
        "acting as or created by alice"
    );
    assert_eq!(
        ids(s.list_all_api_keys(None, Some(two.id)).await.unwrap()),
        vec![b_two.id, two_site.id],
        "limited to site two"
    );
    assert_eq!(
        ids(s
            .list_all_api_keys(Some(bob.id), Some(one.id))
            .await
            .unwrap()),
        Vec::<ApiKeyId>::new()
    );
    assert_eq!(
        ids(s
            .list_all_api_keys(Some(UserId(999_999)), None)
            .await
            .unwrap()),
        Vec::<ApiKeyId>::new()
    );
}

/// Application passwords: unique names per user, found by hash with their owner, renamed, deleted.
pub async fn app_passwords(s: &dyn Store) {
    let u = s
        .insert_user(&new_user("apper", "a@example.com"), 1)
        .await
        .unwrap();
    let other = s
        .insert_user(&new_user("other2", "o2@example.com"), 1)
        .await
        .unwrap();
    let mk = |uuid: &str, user: UserId, name: &str, hash: &str| NewAppPassword {
        uuid: uuid.into(),
        user_id: user,
        app_id: String::new(),
        name: name.into(),
        hash: hash.into(),
        key_version: 1,
    };
    let a = s
        .insert_app_password(&mk("u-1", u.id, "phone", "ha"), 50)
        .await
        .unwrap();
    assert_eq!(a.created_at, 50);
    assert!(matches!(
        s.insert_app_password(&mk("u-2", u.id, "phone", "hb"), 51).await,
        Err(StoreError::Conflict(w)) if w == "name"
    ));
    s.insert_app_password(&mk("u-3", other.id, "phone", "hc"), 52)
        .await
        .unwrap();
    s.insert_app_password(&mk("u-4", u.id, "laptop", "hd"), 53)
        .await
        .unwrap();
    let m = s.find_app_password_by_hash("ha").await.unwrap().unwrap();
    assert_eq!(
        (
            m.password.uuid.as_str(),
            m.user.login.as_str(),
            m.user.created_at
        ),
        ("u-1", "apper", 1)
    );
    assert_eq!(m.password.created_at, 50);
    assert_eq!(s.list_app_passwords(u.id).await.unwrap().len(), 2);
    assert!(
        matches!(
            s.get_app_password(other.id, "u-1").await,
            Err(StoreError::NotFound)
        ),
        "scoped to the user"
    );
    assert_eq!(
        s.rename_app_password(u.id, "u-1", "tablet")
            .await
            .unwrap()
            .name,
        "tablet"
    );
    assert!(matches!(
        s.rename_app_password(u.id, "u-1", "laptop").await,
        Err(StoreError::Conflict(_))
    ));
    s.touch_app_password("u-1", 100, "127.0.0.1", 60)
        .await
        .unwrap();
    s.touch_app_password("u-1", 120, "10.0.0.9", 60)
        .await
        .unwrap();
    assert_eq!(
        s.get_app_password(u.id, "u-1")
            .await
            .unwrap()
            .last_ip
            .as_deref(),
        Some("127.0.0.1")
    );
    assert!(s.delete_app_password(u.id, "u-1").await.unwrap());
    assert!(!s.delete_app_password(u.id, "u-1").await.unwrap());
    assert_eq!(s.delete_app_passwords(u.id).await.unwrap(), 1);
    assert_eq!(s.list_app_passwords(other.id).await.unwrap().len(), 1);
}

/// Sessions: found by hash with their user, touched at most once a minute, listed while live,
/// revoked one by one or all but the current.
pub async fn sessions(s: &dyn Store) {
    let u = s
        .insert_user(&new_user("sess", "s@example.com"), 1)
        .await
        .unwrap();
    let a = s
        .insert_session("ha", u.id, 100, 100 + 14 * 86400, "127.0.0.1", "curl")
        .await
        .unwrap();
    let b = s
        .insert_session("hb", u.id, 110, 110 + 14 * 86400, "127.0.0.1", "firefox")
        .await
        .unwrap();
    let m = s.find_session_by_hash("ha").await.unwrap().unwrap();
    assert_eq!(
        (
            m.session.id,
            m.user.login.as_str(),
            m.user.created_at,
            m.hash.as_str()
        ),
        (a.id, "sess", 1, "ha")
    );
    assert_eq!(m.session.created_at, 100);
    s.touch_session(a.id, 130, 60).await.unwrap();
    assert_eq!(
        s.find_session_by_hash("ha")
            .await
            .unwrap()
            .unwrap()
            .session
            .last_seen_at,
        100
    );
    s.touch_session(a.id, 160, 60).await.unwrap();
    assert_eq!(
        s.find_session_by_hash("ha")
            .await
            .unwrap()
            .unwrap()
            .session
            .last_seen_at,
        160
    );
    assert_eq!(s.list_sessions(u.id, 200, 172800).await.unwrap().len(), 2);
    assert_eq!(
        s.list_sessions(u.id, 110 + 172800, 172800)
            .await
            .unwrap()
            .len(),
        1,
        "idle ones are not listed"
    );
    assert!(s.revoke_session(u.id, b.id, 300).await.unwrap());
    assert!(!s.revoke_session(u.id, b.id, 301).await.unwrap());
    assert!(s.find_session_by_hash("hb").await.unwrap().is_none());
    let c = s
        .insert_session("hc", u.id, 400, 400 + 14 * 86400, "::1", "x")
        .await
        .unwrap();
    assert_eq!(
        s.revoke_user_sessions(u.id, Some(c.id), 500).await.unwrap(),
        1
    );
    assert!(s.find_session_by_hash("hc").await.unwrap().is_some());
    // A page's one-time message is taken once, by its own id, from its own live session.
    assert!(
        !s.take_session_flash(c.id, "f1").await.unwrap(),
        "nothing waits yet"
    );
    s.set_session_flash(c.id, "f1").await.unwrap();
    assert!(
        !s.take_session_flash(c.id, "f2").await.unwrap(),
        "another id"
    );
    assert!(
        !s.take_session_flash(a.id, "f1").await.unwrap(),
        "another session"
    );
    assert!(s.take_session_flash(c.id, "f1").await.unwrap());
    assert!(
        !s.take_session_flash(c.id, "f1").await.unwrap(),
        "only once"
    );
    s.set_session_flash(c.id, "f3").await.unwrap();
    s.set_session_flash(c.id, "f4").await.unwrap();
    assert!(!s.take_session_flash(c.id, "f3").await.unwrap(), "replaced");
    s.set_session_flash(c.id, "f5").await.unwrap();
    assert_eq!(s.revoke_user_sessions(u.id, None, 501).await.unwrap(), 1);
    assert!(
        !s.take_session_flash(c.id, "f5").await.unwrap(),
        "ended session"
    );
}

fn new_client(
    owner: UserId,
    name: &str,
    secret: Option<&str>,
) -> gatehouse_core::oauth2::NewClient {
    use gatehouse_core::oauth2::{GrantType, NewClient, StoredSecret};
    NewClient {
        name: name.into(),
        description: "an app".into(),
        owner_id: owner,
        confidential: secret.is_some(),
        redirect_uris: vec![
            "https://app.example/cb".into(),
            "http://127.0.0.1/cb".into(),
        ],
        grants: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        access_ttl: 3600,
        introspect_any: false,
        secret: secret.map(|h| StoredSecret {
            hash: h.into(),
            key_version: 1,
        }),
    }
}

/// OAuth 2.0 clients: registered with their redirect URIs and grants in order, secrets only for
/// confidential clients, listed per owner, deleted with everything under them.
pub async fn oauth2_clients(s: &dyn Store) {
    use gatehouse_core::oauth2::GrantType;
    let alice = s.insert_user(&new_user("alice", "a@x"), 1).await.unwrap();
    let bob = s.insert_user(&new_user("bob", "b@x"), 1).await.unwrap();
    let c = s
        .insert_client(&new_client(alice.id, "Conf", Some("h1")), 10)
        .await
        .unwrap();
    assert_eq!(c.client_id(), c.id.0.to_string());
    assert_eq!(
        c.redirect_uris,
        vec!["https://app.example/cb", "http://127.0.0.1/cb"]
    );
    assert_eq!(
        c.grants,
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    );
    assert_eq!(s.get_client(c.id).await.unwrap(), c);
    let p = s
        .insert_client(&new_client(bob.id, "Public", None), 11)
        .await
        .unwrap();
    let (found, secret) = s.find_client_auth(c.id).await.unwrap().unwrap();
    assert_eq!(found, c);
    assert_eq!(secret.unwrap().hash, "h1");
    assert!(s.find_client_auth(p.id).await.unwrap().unwrap().1.is_none());
    assert!(s.find_client_auth(ClientId(9999)).await.unwrap().is_none());
    assert_eq!(
        s.list_clients(Some(alice.id)).await.unwrap(),
        vec![c.clone()]
    );
    assert_eq!(s.list_clients(None).await.unwrap().len(), 2);
    let rotated = gatehouse_core::oauth2::StoredSecret {
        hash: "h2".into(),
        key_version: 2,
    };
    assert!(s.set_client_secret(c.id, &rotated).await.unwrap());
    assert!(
        !s.set_client_secret(p.id, &rotated).await.unwrap(),
        "public clients hold none"
    );
    let (_, secret) = s.find_client_auth(c.id).await.unwrap().unwrap();
    assert_eq!(secret, Some(rotated));
    let uris = vec![
        "https://new.example/cb".to_string(),
        "http://localhost/cb".to_string(),
    ];
    assert!(s.set_client_redirect_uris(p.id, &uris).await.unwrap());
    assert_eq!(s.get_client(p.id).await.unwrap().redirect_uris, uris);
    assert!(!s
        .set_client_redirect_uris(ClientId(9999), &uris)
        .await
        .unwrap());
    assert!(s.delete_client(p.id).await.unwrap());
    assert!(!s.delete_client(p.id).await.unwrap());
    assert!(matches!(
        s.get_client(p.id).await,
        Err(StoreError::NotFound)
    ));
}

/// OAuth 2.0 grants and tokens: a grant and its tokens are written together and found by hash with
/// the grant and user; revoking a token, a grant or a client's grants is one statement each.
pub async fn oauth2_tokens(s: &dyn Store) {
    use gatehouse_core::oauth2::{Flow, NewGrant, NewToken, TokenKind};
    let alice = s.insert_user(&new_user("alice", "a@x"), 1).await.unwrap();
    let site = s
        .insert_site(&site("Blog", "blog.example"), alice.id, 1)
        .await
        .unwrap();
    let c = s
        .insert_client(&new_client(alice.id, "Conf", Some("h1")), 10)
        .await
        .unwrap();
    let grant = NewGrant {
        client_id: c.id,
        user_id: alice.id,
        site_id: Some(site.id),
        scope: "posts".into(),
        flow: Flow::AuthorizationCode,
        expires_at: 1000,
    };
    let token = |hash: &str, kind: TokenKind| NewToken {
        hash: hash.into(),
        key_version: 1,
        kind,
        grant_id: GrantId(0),
        scope: "posts".into(),
        expires_at: Some(500),
    };
    let (g, tokens) = s
        .insert_grant(
            &grant,
            &[
                token("ta", TokenKind::Access),
                token("tr", TokenKind::Refresh),
            ],
            20,
        )
        .await
        .unwrap();
    assert_eq!(g.client_id, c.id);
    assert_eq!(g.site_id, Some(site.id));
    assert_eq!(g.flow, Flow::AuthorizationCode);
    assert_eq!(tokens.len(), 2);
    assert!(tokens
        .iter()
        .all(|t| t.grant_id == g.id && t.created_at == 20));
    let m = s.find_token_by_hash("ta").await.unwrap().unwrap();
    assert_eq!(m.token, tokens[0]);
    assert_eq!(m.token.kind, TokenKind::Access);
    assert_eq!(m.hash, "ta");
    assert_eq!(m.grant, g);
    assert_eq!(m.user, alice);
    assert!(s.find_token_by_hash("nope").await.unwrap().is_none());
    // A duplicate hash fails the whole grant: nothing half-written.
    assert!(s
        .insert_grant(
            &grant,
            &[
                token("tx", TokenKind::Access),
                token("ta", TokenKind::Access)
            ],
            21
        )
        .await
        .is_err());
    assert!(s.find_token_by_hash("tx").await.unwrap().is_none());
    // Use is recorded at most once per interval.
    s.touch_grant(g.id, 100, "10.0.0.1", 60).await.unwrap();
    s.touch_grant(g.id, 120, "10.0.0.2", 60).await.unwrap();
    let m = s.find_token_by_hash("tr").await.unwrap().unwrap();
    assert_eq!(
        (m.grant.last_used_at, m.grant.last_ip.as_deref()),
        (Some(100), Some("10.0.0.1"))
    );
    assert!(s.revoke_token(tokens[0].id, 200).await.unwrap());
    assert!(!s.revoke_token(tokens[0].id, 201).await.unwrap());
    let m = s.find_token_by_hash("ta").await.unwrap().unwrap();
    assert_eq!(m.token.revoked_at, Some(200));
    assert!(s.revoke_grant(g.id, 300).await.unwrap());
    assert!(!s.revoke_grant(g.id, 301).await.unwrap());
    assert_eq!(
        s.find_token_by_hash("tr")
            .await
            .unwrap()
            .unwrap()
            .grant
            .revoked_at,
        Some(300)
    );
    let (g2, _) = s
        .insert_grant(&grant, &[token("tb", TokenKind::Access)], 400)
        .await
        .unwrap();
    assert_eq!(
        s.revoke_client_grants(c.id, 500).await.unwrap(),
        1,
        "only live grants"
    );
    assert_eq!(
        s.find_token_by_hash("tb")
            .await
            .unwrap()
            .unwrap()
            .grant
            .revoked_at,
        Some(500)
    );
    assert_ne!(g2.id, g.id);
    // What a user authorized: live grants only, with the client's name; revoked only by them.
    let (g3, _) = s
        .insert_grant(&grant, &[token("tc", TokenKind::Access)], 600)
        .await
        .unwrap();
    let listed = s.list_user_grants(alice.id, 700).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].0.id, listed[0].1.as_str()), (g3.id, "Conf"));
    assert!(
        s.list_user_grants(alice.id, 1000).await.unwrap().is_empty(),
        "expired"
    );
    let bob = s.insert_user(&new_user("bob", "b@x"), 1).await.unwrap();
    assert!(
        !s.revoke_user_grant(bob.id, g3.id, 701).await.unwrap(),
        "not bob's"
    );
    assert!(s.revoke_user_grant(alice.id, g3.id, 701).await.unwrap());
    assert!(!s.revoke_user_grant(alice.id, g3.id, 702).await.unwrap());
    assert!(s.list_user_grants(alice.id, 703).await.unwrap().is_empty());
    // Deleting the client deletes its grants and tokens.
    assert!(s.delete_client(c.id).await.unwrap());
    assert!(s.find_token_by_hash("tb").await.unwrap().is_none());
}

/// Authorization codes are single use and refresh tokens rotate: one conditional statement each,
/// so of two racing presentations exactly one wins; a replay is told from an unknown token.
pub async fn oauth2_codes_and_rotation(s: &dyn Store) {
    use gatehouse_core::oauth2::{Flow, NewCode, NewGrant, NewToken, Rotation, TokenKind};
    let alice = s.insert_user(&new_user("alice", "a@x"), 1).await.unwrap();
    let c = s
        .insert_client(&new_client(alice.id, "Conf", Some("h1")), 10)
        .await
        .unwrap();
    let code = |hash: &str| NewCode {
        hash: hash.into(),
        key_version: 1,
        client_id: c.id,
        user_id: alice.id,
        site_id: None,
        scope: "global".into(),
        redirect_uri: Some("https://app.example/cb".into()),
        code_challenge: Some("x".repeat(43)),
        expires_at: 70,
    };
    s.insert_code(&code("c1"), 10).await.unwrap();
    let (a, b) = tokio::join!(s.consume_code("c1", 20), s.consume_code("c1", 20));
    let winners: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(winners.len(), 1, "exactly one redemption wins");
    let won = &winners[0];
    assert_eq!(won.used_at, Some(20));
    assert_eq!(won.redirect_uri.as_deref(), Some("https://app.example/cb"));
    assert_eq!(won.code_challenge, Some("x".repeat(43)));
    assert_eq!(won.expires_at, 70);
    assert!(s.consume_code("c1", 21).await.unwrap().is_none());
    assert!(s.consume_code("nope", 21).await.unwrap().is_none());
    assert_eq!(s.find_code("c1").await.unwrap().unwrap().used_at, Some(20));
    assert!(s.find_code("nope").await.unwrap().is_none());
    // Many uses at once (written together): each code is used once, whichever of its uses
    // comes first; a second use and an unknown code find nothing.
    for n in 0..10 {
        s.insert_code(&code(&format!("m{n}")), 10).await.unwrap();
    }
    let uses = (0..10).chain(0..10).chain([99]).map(|n| async move {
        let used = s.consume_code(&format!("m{n}"), 22 + n).await.unwrap();
        (n, used)
    });
    let mut used_once = std::collections::HashSet::new();
    for (n, used) in futures_util::future::join_all(uses).await {
        if let Some(c) = used {
            assert!(used_once.insert(n), "m{n} used twice");
            assert_eq!(c.used_at, Some(22 + n));
        }
    }
    assert_eq!(used_once.len(), 10);

    let grant = NewGrant {
        client_id: c.id,
        user_id: alice.id,
        site_id: None,
        scope: "global".into(),
        flow: Flow::AuthorizationCode,
        expires_at: 10_000,
    };
    let token = |hash: &str, kind: TokenKind| NewToken {
        hash: hash.into(),
        key_version: 1,
        kind,
        grant_id: GrantId(0),
        scope: "global".into(),
        expires_at: Some(5000),
    };
    let (g, _) = s
        .insert_grant(
            &grant,
            &[
                token("a1", TokenKind::Access),
                token("r1", TokenKind::Refresh),
            ],
            30,
        )
        .await
        .unwrap();
    // A replay before the grant is recorded: recording it says so (the caller revokes it).
    assert_eq!(s.mark_code_replayed("c1", 25).await.unwrap(), Some(None));
    assert!(
        s.set_code_grant("c1", g.id).await.unwrap(),
        "replayed meanwhile"
    );
    assert_eq!(
        s.find_code("c1").await.unwrap().unwrap().grant_id,
        Some(g.id)
    );
    // A replay after: it gets the grant.
    assert_eq!(
        s.mark_code_replayed("c1", 26).await.unwrap(),
        Some(Some(g.id))
    );
    assert_eq!(s.mark_code_replayed("nope", 26).await.unwrap(), None);
    s.insert_code(&code("c2"), 10).await.unwrap();
    assert_eq!(
        s.mark_code_replayed("c2", 26).await.unwrap(),
        None,
        "not used yet"
    );
    assert!(s.consume_code("c2", 27).await.unwrap().is_some());
    assert!(!s.set_code_grant("c2", g.id).await.unwrap(), "no replay");
    // Consent is remembered per (user, client, scope, site).
    assert_eq!(
        s.find_live_grant(alice.id, c.id, "global", None, 40)
            .await
            .unwrap()
            .map(|x| x.id),
        Some(g.id)
    );
    assert!(s
        .find_live_grant(alice.id, c.id, "posts", None, 40)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .find_live_grant(alice.id, c.id, "global", Some(SiteId(1)), 40)
        .await
        .unwrap()
        .is_none());
    assert!(
        s.find_live_grant(alice.id, c.id, "global", None, 10_000)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    // Only consent given on the consent page is remembered: not a client_credentials grant.
    let cc = NewGrant {
        flow: Flow::ClientCredentials,
        scope: "sites:read".into(),
        ..grant.clone()
    };
    s.insert_grant(&cc, &[token("cc1", TokenKind::Access)], 30)
        .await
        .unwrap();
    assert!(s
        .find_live_grant(alice.id, c.id, "sites:read", None, 40)
        .await
        .unwrap()
        .is_none());

    // Two racing rotations of one refresh token: one rotates, the other is a replay.
    let new_a = [
        token("a2", TokenKind::Access),
        token("r2", TokenKind::Refresh),
    ];
    let new_b = [
        token("a3", TokenKind::Access),
        token("r3", TokenKind::Refresh),
    ];
    let (x, y) = tokio::join!(
        s.rotate_refresh_token("r1", &new_a, 50),
        s.rotate_refresh_token("r1", &new_b, 50)
    );
    let outcomes = [x.unwrap(), y.unwrap()];
    let rotated: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            Rotation::Rotated { grant, tokens } => Some((grant.clone(), tokens.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(rotated.len(), 1, "{outcomes:?}");
    assert!(outcomes.contains(&Rotation::Replayed { grant: g.id }));
    let (rg, rtokens) = &rotated[0];
    assert_eq!(rg.id, g.id);
    assert_eq!(rtokens.len(), 2);
    assert!(rtokens
        .iter()
        .all(|t| t.grant_id == g.id && t.created_at == 50));
    // The loser's tokens were never written.
    let loser = if s.find_token_by_hash("a2").await.unwrap().is_some() {
        "a3"
    } else {
        "a2"
    };
    assert!(s.find_token_by_hash(loser).await.unwrap().is_none());
    assert_eq!(
        s.find_token_by_hash("r1")
            .await
            .unwrap()
            .unwrap()
            .token
            .rotated_at,
        Some(50)
    );
    assert_eq!(
        s.rotate_refresh_token("a1", &[], 60).await.unwrap(),
        Rotation::Unknown,
        "an access token is no refresh token"
    );
    assert_eq!(
        s.rotate_refresh_token("zz", &[], 60).await.unwrap(),
        Rotation::Unknown
    );
}

fn oauth1_token(
    consumer: gatehouse_core::oauth1::ConsumerId,
    hash: &str,
    kind: gatehouse_core::oauth1::TokenKind,
    user: Option<UserId>,
    expires_at: Option<i64>,
) -> gatehouse_core::oauth1::NewToken {
    gatehouse_core::oauth1::NewToken {
        hash: hash.into(),
        key_version: 1,
        secret: gatehouse_core::secrets::Sealed {
            key_version: 1,
            data: format!("sealed-{hash}"),
        },
        kind,
        consumer_id: consumer,
        user_id: user,
        callback: Some("oob".into()),
        expires_at,
    }
}

/// OAuth 1.0a: consumers by key, request tokens approved once and exchanged once (racing
/// exchanges: one winner), nonces remembered once, revocation and purging.
pub async fn oauth1_consumers_tokens_and_nonces(s: &dyn Store) {
    use gatehouse_core::oauth1::{NewConsumer, TokenKind};
    use gatehouse_core::secrets::Sealed;
    let alice = s.insert_user(&new_user("alice", "a@x"), 1).await.unwrap();
    let bob = s.insert_user(&new_user("bob", "b@x"), 1).await.unwrap();
    let new = NewConsumer {
        key: "AAAAbbbbCCCC".into(),
        secret: Sealed {
            key_version: 1,
            data: "sealed".into(),
        },
        name: "App".into(),
        description: "d".into(),
        callback: Some("https://app.example/cb".into()),
        owner_id: alice.id,
    };
    let c = s.insert_consumer(&new, 10).await.unwrap();
    assert_eq!(c.key, "AAAAbbbbCCCC");
    assert!(matches!(
        s.insert_consumer(&new, 11).await,
        Err(StoreError::Conflict(w)) if w == "consumer_key"
    ));
    let (found, sealed, suspended) = s
        .find_consumer_by_key("AAAAbbbbCCCC")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, c);
    assert_eq!(sealed.data, "sealed");
    assert!(!suspended);
    assert!(s
        .find_consumer_by_key("aaaabbbbcccc")
        .await
        .unwrap()
        .is_none());
    assert_eq!(s.get_consumer(c.id).await.unwrap(), c);
    assert_eq!(
        s.list_consumers(Some(alice.id)).await.unwrap(),
        vec![c.clone()]
    );
    assert!(s.list_consumers(Some(bob.id)).await.unwrap().is_empty());
    assert_eq!(s.list_consumers(None).await.unwrap().len(), 1);

    // A request token: found by hash with its consumer, no user yet.
    let req = s
        .insert_oauth1_token(
            &oauth1_token(c.id, "r1", TokenKind::Request, None, Some(1000)),
            100,
        )
        .await
        .unwrap();
    let m = s.find_oauth1_token("r1").await.unwrap().unwrap();
    assert_eq!(m.token, req);
    assert!(m.user.is_none());
    assert_eq!(m.consumer, c);
    assert_eq!(m.consumer_secret.data, "sealed");
    assert_eq!(m.secret.data, "sealed-r1");
    // Exchange before approval fails; approval happens once; a wrong verifier does not exchange.
    let access = oauth1_token(c.id, "a1", TokenKind::Access, None, None);
    assert!(s
        .exchange_request_token(req.id, "v", &access, 101)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .approve_request_token(req.id, bob.id, "v", 102)
        .await
        .unwrap());
    assert!(!s
        .approve_request_token(req.id, alice.id, "w", 103)
        .await
        .unwrap());
    assert_eq!(
        s.find_oauth1_token("r1")
            .await
            .unwrap()
            .unwrap()
            .user
            .unwrap()
            .id,
        bob.id
    );
    assert!(s
        .exchange_request_token(req.id, "w", &access, 104)
        .await
        .unwrap()
        .is_none());
    // Two racing exchanges: exactly one wins, and the access token is the approver's.
    let other = oauth1_token(c.id, "a2", TokenKind::Access, None, None);
    let (x, y) = tokio::join!(
        s.exchange_request_token(req.id, "v", &access, 105),
        s.exchange_request_token(req.id, "v", &other, 105)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.is_some() as u8 + y.is_some() as u8, 1);
    // Either may win; the access token stored is the winner's.
    let won = if x.is_some() { "a1" } else { "a2" };
    let tok = x.or(y).unwrap();
    assert_eq!(tok.kind, TokenKind::Access);
    assert_eq!(tok.user_id, Some(bob.id));
    assert!(s
        .exchange_request_token(req.id, "v", &access, 106)
        .await
        .unwrap()
        .is_none());
    // An expired request token can be neither approved nor exchanged.
    let old = s
        .insert_oauth1_token(
            &oauth1_token(c.id, "r2", TokenKind::Request, None, Some(200)),
            100,
        )
        .await
        .unwrap();
    assert!(!s
        .approve_request_token(old.id, bob.id, "v", 200)
        .await
        .unwrap());

    // Nonces: once per (consumer, token, timestamp, nonce).
    assert!(s.remember_nonce(c.id, "a1", 500, "n1", 1100).await.unwrap());
    assert!(!s.remember_nonce(c.id, "a1", 500, "n1", 1100).await.unwrap());
    assert!(s.remember_nonce(c.id, "a1", 501, "n1", 1101).await.unwrap());
    assert!(s.remember_nonce(c.id, "", 500, "n1", 1100).await.unwrap());

    // Authorizations, revocation, touching.
    let list = s.list_user_oauth1(bob.id).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].token.id, tok.id);
    assert_eq!(list[0].consumer.name, "App");
    s.touch_oauth1_token(tok.id, 300, "192.0.2.1", 60)
        .await
        .unwrap();
    s.touch_oauth1_token(tok.id, 320, "192.0.2.2", 60)
        .await
        .unwrap();
    let t = s.list_user_oauth1(bob.id).await.unwrap().remove(0).token;
    assert_eq!(
        (t.last_used_at, t.last_ip.as_deref()),
        (Some(300), Some("192.0.2.1"))
    );
    assert!(!s
        .revoke_oauth1_token(Some(alice.id), tok.id, 400)
        .await
        .unwrap());
    assert!(s
        .revoke_oauth1_token(Some(bob.id), tok.id, 400)
        .await
        .unwrap());
    assert!(!s.revoke_oauth1_token(None, tok.id, 401).await.unwrap());
    assert!(s.list_user_oauth1(bob.id).await.unwrap().is_empty());
    let again = s
        .insert_oauth1_token(
            &oauth1_token(c.id, "a3", TokenKind::Access, Some(bob.id), None),
            500,
        )
        .await
        .unwrap();
    assert_eq!(s.revoke_user_oauth1(bob.id, 501).await.unwrap(), 1);
    assert!(s
        .find_oauth1_token("a3")
        .await
        .unwrap()
        .unwrap()
        .token
        .revoked_at
        .is_some());
    let _ = again;

    // Purging forgets expired nonces and request tokens only.
    assert_eq!(s.purge_oauth1(1100).await.unwrap(), 2 + 2);
    assert!(s.remember_nonce(c.id, "a1", 500, "n1", 1100).await.unwrap());
    assert!(s.find_oauth1_token(won).await.unwrap().is_some());

    // A disabled owner suspends the consumer; deleting it takes its tokens.
    s.set_user_disabled(alice.id, true).await.unwrap();
    assert!(
        s.find_consumer_by_key("AAAAbbbbCCCC")
            .await
            .unwrap()
            .unwrap()
            .2
    );
    assert!(
        s.find_oauth1_token(won)
            .await
            .unwrap()
            .unwrap()
            .consumer_suspended
    );
    assert!(s.delete_consumer(c.id).await.unwrap());
    assert!(!s.delete_consumer(c.id).await.unwrap());
    assert!(s.find_oauth1_token(won).await.unwrap().is_none());
}

/// The change counter (migration 0008, SPEC §11): every committed change that can end or alter
/// a cached credential, user, role or site moves it; recording a use, a flash message and a new
/// credential do not (a cache would be emptied by every request otherwise).
pub async fn change_counter(s: &dyn Store) {
    let moved = |before: i64| async move { s.change_epoch().await.unwrap().changes > before };
    let u = s
        .insert_user(&new_user("counted", "counted@example.com"), 1)
        .await
        .unwrap();
    let e = s.change_epoch().await.unwrap().changes;
    let site = s
        .insert_site(&site("C", "c.example"), u.id, 1)
        .await
        .unwrap();
    assert!(
        moved(e).await,
        "a new site changes which site a host resolves to"
    );
    let key = NewApiKey {
        kind: ApiKeyKind::User,
        user_id: Some(u.id),
        site_id: None,
        created_by: u.id,
        description: "counted".into(),
        scopes: None,
        methods: None,
        expires_at: None,
        hash: "counted-key".into(),
        key_version: 1,
    };
    let e = s.change_epoch().await.unwrap().changes;
    let k = s.insert_api_key(&key, 2).await.unwrap();
    let session = s
        .insert_session("counted-session", u.id, 2, 10_000, "127.0.0.1", "test")
        .await
        .unwrap();
    s.touch_api_key(k.id, 100, "127.0.0.1", 0).await.unwrap();
    s.touch_session(session.id, 100, 0).await.unwrap();
    s.set_session_flash(session.id, "f1").await.unwrap();
    assert_eq!(
        s.change_epoch().await.unwrap().changes,
        e,
        "new credentials, recorded uses and flash messages leave the counter alone"
    );
    for (what, change) in [
        ("revoking an API key", 0),
        ("ending a session", 1),
        ("disabling a user", 2),
        ("changing a role", 3),
        ("changing a site", 4),
    ] {
        let e = s.change_epoch().await.unwrap().changes;
        match change {
            0 => assert!(s.revoke_api_key(k.id, 200).await.unwrap()),
            1 => assert!(s.revoke_session(u.id, session.id, 200).await.unwrap()),
            2 => s.set_user_disabled(u.id, true).await.unwrap(),
            3 => s.set_role(site.id, u.id, Role::Editor).await.unwrap(),
            _ => {
                let patch = SitePatch {
                    require_auth: Some(true),
                    ..Default::default()
                };
                s.update_site(site.id, &patch).await.unwrap();
            }
        }
        assert!(moved(e).await, "{what} moves the counter");
    }
    // Content moves its own counter, and only that one: a post written does not empty the
    // credentials an instance keeps.
    let before = s.change_epoch().await.unwrap();
    let post = NewPost {
        site_id: site.id,
        author_id: u.id,
        title: "Counted".into(),
        content: "counted".into(),
        excerpt: String::new(),
        slug: "counted".into(),
        status: PostStatus::Publish,
        comments_open: true,
        unfiltered: false,
    };
    let p = s.insert_post(&post, 300).await.unwrap();
    let after = s.change_epoch().await.unwrap();
    assert!(
        after.content > before.content,
        "a new post moves the content counter"
    );
    assert_eq!(
        after.changes, before.changes,
        "a new post leaves the credential counter alone"
    );
    s.delete_post(site.id, p.id).await.unwrap();
    assert!(
        s.change_epoch().await.unwrap().content > after.content,
        "a deleted post moves the content counter"
    );
}

/// Grants written at the same time are written together (`batch`): each request gets its own
/// grant with its own tokens, and a grant that cannot be written (its client is gone) fails
/// alone, leaving nothing of itself behind.
pub async fn grants_written_together(s: &dyn Store) {
    use gatehouse_core::oauth2::{Flow, NewGrant, NewToken, TokenKind};
    let alice = s.insert_user(&new_user("alice", "a@x"), 1).await.unwrap();
    let c = s
        .insert_client(&new_client(alice.id, "Batch", Some("h1")), 10)
        .await
        .unwrap();
    let grant = |client: ClientId, n: i64| NewGrant {
        client_id: client,
        user_id: alice.id,
        site_id: None,
        scope: format!("scope-{n}"),
        flow: Flow::ClientCredentials,
        expires_at: 10_000 + n,
    };
    let token = |n: i64, kind: TokenKind| NewToken {
        hash: format!("batch-{n}-{}", kind.as_str()),
        key_version: 1,
        kind,
        grant_id: GrantId(0),
        scope: format!("scope-{n}"),
        expires_at: Some(5_000 + n),
    };
    // 40 at once, then 40 more of which one is for a client that does not exist (the second
    // batch fails as a whole and is written again grant by grant).
    let writes = (0..80i64).map(|n| {
        let client = if n == 57 { ClientId(999_999) } else { c.id };
        let tokens = if n % 2 == 0 {
            vec![token(n, TokenKind::Access), token(n, TokenKind::Refresh)]
        } else {
            vec![token(n, TokenKind::Access)]
        };
        let g = grant(client, n);
        async move { (n, s.insert_grant(&g, &tokens, 100 + n).await) }
    });
    let mut writes: Vec<_> = writes.collect();
    let second = writes.split_off(40);
    let mut results = futures_util::future::join_all(writes).await;
    results.extend(futures_util::future::join_all(second).await);
    let mut ids = std::collections::HashSet::new();
    for (n, r) in results {
        if n == 57 {
            assert!(
                matches!(r, Err(StoreError::NotFound)),
                "a grant for a missing client is refused as not found"
            );
            assert!(s
                .find_token_by_hash("batch-57-access")
                .await
                .unwrap()
                .is_none());
            continue;
        }
        let (g, tokens) = r.unwrap_or_else(|e| panic!("grant {n}: {e}"));
        assert!(ids.insert(g.id), "each grant is its own");
        assert_eq!(g.scope, format!("scope-{n}"));
        assert_eq!(g.expires_at, 10_000 + n);
        assert_eq!(g.created_at, 100 + n);
        assert_eq!(tokens.len(), if n % 2 == 0 { 2 } else { 1 });
        for t in &tokens {
            assert_eq!(t.grant_id, g.id);
            assert_eq!(t.expires_at, Some(5_000 + n));
            let m = s
                .find_token_by_hash(&format!("batch-{n}-{}", t.kind.as_str()))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&m.token, t);
            assert_eq!(m.grant, g);
        }
    }
    assert_eq!(ids.len(), 79);

    // Grants alike in every value, written at once: still one grant each, each request's
    // tokens under its own.
    let alike = (0..12i64).map(|n| {
        let g = grant(c.id, 1_000);
        let t = vec![NewToken {
            hash: format!("alike-{n}"),
            ..token(1_000, TokenKind::Access)
        }];
        async move { (n, s.insert_grant(&g, &t, 7).await.unwrap()) }
    });
    let mut alike_ids = std::collections::HashSet::new();
    for (n, (g, tokens)) in futures_util::future::join_all(alike).await {
        assert!(alike_ids.insert(g.id), "each alike grant is its own");
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].grant_id, g.id);
        let m = s
            .find_token_by_hash(&format!("alike-{n}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.grant, g);
    }
    assert_eq!(alike_ids.len(), 12);
    assert!(alike_ids.is_disjoint(&ids));

    // Rotations queued together: each live refresh token rotates once, a second presentation of
    // the same one in the same batch is a replay, an unknown one is unknown.
    use gatehouse_core::oauth2::Rotation;
    let rotations = (0..40i64).step_by(2).chain([0, 12, 999]).map(|n| {
        let new = vec![
            NewToken {
                hash: format!("next-{n}-access"),
                ..token(n, TokenKind::Access)
            },
            NewToken {
                hash: format!("next-{n}-refresh"),
                ..token(n, TokenKind::Refresh)
            },
        ];
        async move {
            let r = s
                .rotate_refresh_token(&format!("batch-{n}-refresh"), &new, 500)
                .await;
            (n, r.unwrap())
        }
    });
    let mut rotated = std::collections::HashMap::new();
    for (n, r) in futures_util::future::join_all(rotations).await {
        match r {
            Rotation::Rotated { grant, tokens } => {
                assert!(rotated.insert(n, grant.id).is_none(), "{n} rotated twice");
                assert_eq!(tokens.len(), 2);
                assert!(tokens
                    .iter()
                    .all(|t| t.grant_id == grant.id && t.created_at == 500));
                let m = s
                    .find_token_by_hash(&format!("next-{n}-refresh"))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(m.grant.id, grant.id);
            }
            Rotation::Replayed { grant } => {
                assert!(n == 0 || n == 12, "{n} replayed");
                assert!(ids.contains(&grant));
            }
            Rotation::Unknown => assert_eq!(n, 999),
        }
    }
    assert_eq!(rotated.len(), 20, "every live refresh token rotated once");
    let old = s
        .find_token_by_hash("batch-0-refresh")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.token.rotated_at, Some(500));
    assert_eq!(old.grant.id, rotated[&0]);
}

/// Look-ups made at the same moment are read together (`batch::Reads`): each request still gets
/// exactly the rows of its own keys, missing ones included, and a counter written before a
/// look-up is seen by it.
pub async fn reads_answered_together(s: &dyn Store) {
    let users: Vec<User> = futures_util::future::join_all((0..6).map(|n| async move {
        s.insert_user(&new_user(&format!("r{n}"), &format!("r{n}@x")), 1)
            .await
            .unwrap()
    }))
    .await;
    let client = s
        .insert_client(&new_client(users[0].id, "Reads", Some("rh")), 10)
        .await
        .unwrap();
    for n in 0..6 {
        s.throttle_fail(&format!("k{n}"), 100, 300).await.unwrap();
    }
    let n_users = users.len();
    let users = &users;
    let user_reads = (0..n_users + 3).map(|i| async move {
        let want = users
            .get(i)
            .map(|u| u.id)
            .unwrap_or(UserId(900_000 + i as i64));
        (i, want, s.get_user(want).await)
    });
    let counter_reads = (0..9).map(|n| async move {
        let keys = vec![format!("k{n}"), format!("k{}", (n + 1) % 9)];
        (n, s.throttle_get(&keys).await.unwrap())
    });
    let client_reads = [client.id, ClientId(999_999)]
        .into_iter()
        .map(|id| async move { (id, s.find_client_auth(id).await.unwrap()) });
    let (u, t, c) = tokio::join!(
        futures_util::future::join_all(user_reads),
        futures_util::future::join_all(counter_reads),
        futures_util::future::join_all(client_reads)
    );
    for (i, want, got) in u {
        match got {
            Ok(user) => {
                assert!(i < n_users);
                assert_eq!(user.id, want);
                assert_eq!(user.login, format!("r{i}"));
            }
            Err(StoreError::NotFound) => assert!(i >= n_users),
            Err(e) => panic!("{e}"),
        }
    }
    for (n, rows) in t {
        let mut keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        keys.sort();
        let mut want: Vec<String> = [n, (n + 1) % 9]
            .into_iter()
            .filter(|k| *k < 6)
            .map(|k| format!("k{k}"))
            .collect();
        want.sort();
        assert_eq!(keys, want, "counters of k{n}");
        assert!(rows.iter().all(|r| r.failures == 1));
    }
    for (id, found) in c {
        match found {
            Some((cl, secret)) => {
                assert_eq!(cl.id, client.id);
                assert_eq!(id, client.id);
                assert!(secret.is_some());
            }
            None => assert_eq!(id, ClientId(999_999)),
        }
    }
    // A failure counted, then read at once by many: every read sees it.
    s.throttle_fail("k0", 101, 300).await.unwrap();
    let again = futures_util::future::join_all(
        (0..20).map(|_| async { s.throttle_get(&["k0".to_string()]).await.unwrap() }),
    )
    .await;
    assert!(again.iter().all(|r| r.len() == 1 && r[0].failures == 2));
}

/// A request abandoned while it writes or reads for others (its client went away, so its
/// future was dropped) cuts short nothing but itself: the batch it was writing or the look-up it
/// was making still completes for every other request, and the database is left usable.
pub async fn abandoned_requests_do_not_break_batches(s: &dyn Store) {
    use gatehouse_core::oauth2::{Flow, NewGrant, NewToken, TokenKind};
    use std::time::Duration;
    let alice = s.insert_user(&new_user("alice", "a@x"), 1).await.unwrap();
    let c = s
        .insert_client(&new_client(alice.id, "Abandon", Some("ah")), 10)
        .await
        .unwrap();
    let grant = |n: i64| NewGrant {
        client_id: c.id,
        user_id: alice.id,
        site_id: None,
        scope: format!("s{n}"),
        flow: Flow::ClientCredentials,
        expires_at: 10_000,
    };
    let token = |n: i64| NewToken {
        hash: format!("abandon-{n}"),
        key_version: 1,
        kind: TokenKind::Access,
        grant_id: GrantId(0),
        scope: format!("s{n}"),
        expires_at: None,
    };
    for round in 0..15i64 {
        let writes = (0..24i64).map(|i| {
            let n = round * 100 + i;
            async move {
                let (g, t) = (grant(n), vec![token(n)]);
                let write = s.insert_grant(&g, &t, 5);
                if i % 3 == 1 {
                    // Abandoned after a moment: whatever it was doing is dropped. (The second
                    // request queued gets the turn after the first and writes the rest.)
                    let _ = tokio::time::timeout(
                        Duration::from_micros(150 * (i as u64 + round as u64)),
                        write,
                    )
                    .await;
                    None
                } else {
                    Some((n, write.await))
                }
            }
        });
        let reads = (0..24i64).map(|i| async move {
            let read = s.get_user(alice.id);
            if i % 3 == 1 {
                abandon_after_polls(read, 1 + (round as usize + i as usize) % 4).await;
                None
            } else {
                Some(read.await)
            }
        });
        let (w, r) = tokio::join!(
            futures_util::future::join_all(writes),
            futures_util::future::join_all(reads)
        );
        for (n, written) in w.into_iter().flatten() {
            let (g, _) = written.unwrap_or_else(|e| panic!("grant {n} of a batch: {e}"));
            assert_eq!(g.scope, format!("s{n}"));
        }
        for read in r.into_iter().flatten() {
            assert_eq!(read.unwrap().id, alice.id);
        }
    }
    // Still usable: a write and a transaction of another kind.
    s.insert_grant(&grant(99_999), &[token(99_999)], 6)
        .await
        .unwrap();
    s.insert_user(&new_user("bob", "b@x"), 2).await.unwrap();
}

/// Polls `f` at most `polls` times, then drops it unfinished (as a server drops the future of a
/// request whose client went away).
async fn abandon_after_polls<F: std::future::Future>(f: F, polls: usize) {
    let mut f = std::pin::pin!(f);
    let mut left = polls;
    std::future::poll_fn(|cx| {
        if f.as_mut().poll(cx).is_ready() || left <= 1 {
            return std::task::Poll::Ready(());
        }
        left -= 1;
        std::task::Poll::Pending
    })
    .await;
}
