//! The one authorization decision (SPEC §1): *allowed = the credential's scope and constraints
//! permit ∧ the user's capability on that site permits*. Every handler in every dialect asks here.
//! Owns: the mapping from actions to scopes and capabilities. Handlers own which action a request is.
//! Pure: no I/O, no time (expiry is checked when the credential is authenticated).

use crate::caps::Cap;
use crate::model::{AuthMethod, Principal, Scope, SiteAccess};

/// Which family of resources an action touches; decides which scopes cover it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// The site itself (its REST index): any scope reaches it, as `ReadSelf` does.
    Site,
    Posts,
    Comments,
    Users,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read what an anonymous visitor could read on a site (published posts, approved comments).
    ReadPublic(Area),
    /// Exercise a WordPress capability on a site; `write` marks state-changing use.
    Use { cap: Cap, area: Area, write: bool },
    /// Read one's own account (`users/me`, `/rest/v1/me`, `/v1/user`): any valid credential may.
    ReadSelf,
    /// Account-level site management (hosting API `sites:read` / `sites:write`).
    Sites { write: bool },
}

/// Why a request is refused. Handlers pick the dialect's code; the status follows from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// No credential was presented and the action needs one (401).
    NotLoggedIn,
    /// Authenticated, but the user's role on the site does not grant it (403).
    Forbidden,
    /// The credential's scopes do not cover the action (403, RFC 6750 §3.1 `insufficient_scope`).
    InsufficientScope,
    /// The credential is limited to another site, to reading, or to other methods (403).
    OutsideConstraints,
}

fn is_write_method(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

fn scope_covers(scopes: &[Scope], action: Action) -> bool {
    use Scope::*;
    let any = |wanted: &[Scope]| scopes.iter().any(|s| wanted.contains(s));
    match action {
        Action::ReadSelf | Action::ReadPublic(Area::Site) => true,
        Action::ReadPublic(Area::Posts)
        | Action::Use {
            area: Area::Posts,
            write: false,
            ..
        } => any(&[Global, Posts, PostsRead]),
        Action::Use {
            area: Area::Posts,
            write: true,
            ..
        } => any(&[Global, Posts]),
        Action::ReadPublic(Area::Comments) => any(&[Global, Comments, Posts, PostsRead]),
        Action::Use {
            area: Area::Comments,
            ..
        } => any(&[Global, Comments]),
        Action::ReadPublic(Area::Users)
        | Action::Use {
            area: Area::Users | Area::Site,
            ..
        } => any(&[Global]),
        Action::Sites { write: false } => any(&[Global, SitesRead, SitesWrite]),
        Action::Sites { write: true } => any(&[Global, SitesWrite]),
    }
}

/// Decides one request. `method` is the HTTP method (upper case); `site` is the user's standing on
/// the site the request is for, when the action is per-site.
pub fn allow(
    p: &Principal,
    method: &str,
    site: Option<&SiteAccess>,
    action: Action,
) -> Result<(), Denial> {
    let c = &p.constraints;
    if c.read_only && is_write_method(method) {
        return Err(Denial::OutsideConstraints);
    }
    if let Some(methods) = &c.methods {
        if !methods.iter().any(|m| m == method) {
            return Err(Denial::OutsideConstraints);
        }
    }
    if let (Some(only), Some(s)) = (c.site, site) {
        if only != s.site_id {
            return Err(Denial::OutsideConstraints);
        }
    }
    if let Some(scopes) = &c.scopes {
        if !scope_covers(scopes, action) {
            return Err(Denial::InsufficientScope);
        }
    }
    if p.is_anonymous() {
        return match (p.method(), action) {
            // A site key reads what a visitor may, also on a `require_auth` site (its site was
            // checked above), and nothing else.
            (AuthMethod::SiteKey, Action::ReadPublic(_)) if site.is_some() => Ok(()),
            (AuthMethod::SiteKey, _) => Err(Denial::Forbidden),
            (_, Action::ReadPublic(_)) if !site.is_some_and(|s| s.require_auth) => Ok(()),
            _ => Err(Denial::NotLoggedIn),
        };
    }
    match action {
        // A site that requires authentication is private, as WordPress.com private sites are:
        // reading it needs a role there (the `read` capability; network admins have every
        // capability), not merely an account on this server.
        Action::ReadPublic(_) => match site {
            Some(s) if s.require_auth && !s.caps.has(Cap::Read) => Err(Denial::Forbidden),
            _ => Ok(()),
        },
        Action::ReadSelf | Action::Sites { .. } => Ok(()),
        Action::Use { cap, .. } => match site {
            Some(s) if s.caps.has(cap) => Ok(()),
            _ => Err(Denial::Forbidden),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::Role;
    use crate::model::{ApiKeyId, Constraints, Credential, Site, SiteId, User, UserId};

    fn user(network_admin: bool) -> User {
        User {
            id: UserId(7),
            login: "u".into(),
            email: "u@example.com".into(),
            display_name: "U".into(),
            network_admin,
            disabled: false,
            created_at: 0,
        }
    }
    fn site(require_auth: bool) -> Site {
        Site {
            id: SiteId(1),
            name: "s".into(),
            url: "https://s.example".into(),
            host: "s.example".into(),
            require_auth,
            owner_id: UserId(1),
            created_at: 0,
        }
    }
    fn principal(u: Option<User>, c: Constraints) -> Principal {
        Principal {
            credential: if u.is_some() {
                Credential::AccountPassword
            } else {
                Credential::Anonymous
            },
            user: u,
            constraints: c,
        }
    }
    const CREATE: Action = Action::Use {
        cap: Cap::EditPosts,
        area: Area::Posts,
        write: true,
    };

    #[test]
    fn a_private_site_is_read_only_by_its_members_and_network_admins() {
        let closed = site(true);
        let read = Action::ReadPublic(Area::Posts);
        let u = user(false);
        let p = principal(Some(u.clone()), Constraints::default());
        let stranger = SiteAccess::new(&closed, Some(&u), None);
        assert_eq!(
            allow(&p, "GET", Some(&stranger), read),
            Err(Denial::Forbidden)
        );
        let member = SiteAccess::new(&closed, Some(&u), Some(Role::Subscriber));
        assert_eq!(allow(&p, "GET", Some(&member), read), Ok(()));
        let mut off = u.clone();
        off.disabled = true;
        let disabled = SiteAccess::new(&closed, Some(&off), Some(Role::Administrator));
        assert_eq!(
            allow(&p, "GET", Some(&disabled), read),
            Err(Denial::Forbidden)
        );
        let admin = user(true);
        let na = principal(Some(admin.clone()), Constraints::default());
        let net = SiteAccess::new(&closed, Some(&admin), None);
        assert_eq!(allow(&na, "GET", Some(&net), read), Ok(()));
        // An open site stays readable by any account.
        let open = SiteAccess::new(&site(false), Some(&u), None);
        assert_eq!(allow(&p, "GET", Some(&open), read), Ok(()));
    }

    #[test]
    fn anonymous_reads_public_unless_site_requires_auth() {
        let anon = Principal::anonymous();
        let open = SiteAccess::new(&site(false), None, None);
        let closed = SiteAccess::new(&site(true), None, None);
        let read = Action::ReadPublic(Area::Posts);
        assert_eq!(allow(&anon, "GET", Some(&open), read), Ok(()));
        assert_eq!(
            allow(&anon, "GET", Some(&closed), read),
            Err(Denial::NotLoggedIn)
        );
        assert_eq!(
            allow(&anon, "POST", Some(&open), CREATE),
            Err(Denial::NotLoggedIn)
        );
        assert_eq!(
            allow(&anon, "GET", None, Action::ReadSelf),
            Err(Denial::NotLoggedIn)
        );
    }

    #[test]
    fn capability_comes_from_the_role_on_that_site() {
        let u = user(false);
        let p = principal(Some(u.clone()), Constraints::default());
        let s = site(false);
        let sub = SiteAccess::new(&s, Some(&u), Some(Role::Subscriber));
        let contrib = SiteAccess::new(&s, Some(&u), Some(Role::Contributor));
        let none = SiteAccess::new(&s, Some(&u), None);
        assert_eq!(
            allow(&p, "POST", Some(&sub), CREATE),
            Err(Denial::Forbidden)
        );
        assert_eq!(allow(&p, "POST", Some(&contrib), CREATE), Ok(()));
        assert_eq!(
            allow(&p, "POST", Some(&none), CREATE),
            Err(Denial::Forbidden)
        );
        let admin = user(true);
        let na = SiteAccess::new(&s, Some(&admin), None);
        assert_eq!(allow(&p, "POST", Some(&na), CREATE), Ok(()));
    }

    #[test]
    fn disabled_users_hold_nothing() {
        let mut u = user(true);
        u.disabled = true;
        let acc = SiteAccess::new(&site(false), Some(&u), Some(Role::Administrator));
        assert!(!acc.caps.has(Cap::Read));
    }

    #[test]
    fn constraints_and_scopes_narrow_the_user() {
        let u = user(true);
        let s = site(false);
        let acc = SiteAccess::new(&s, Some(&u), None);
        let ro = principal(
            Some(u.clone()),
            Constraints {
                read_only: true,
                ..Default::default()
            },
        );
        assert_eq!(
            allow(&ro, "POST", Some(&acc), CREATE),
            Err(Denial::OutsideConstraints)
        );
        let other_site = principal(
            Some(u.clone()),
            Constraints {
                site: Some(SiteId(99)),
                ..Default::default()
            },
        );
        assert_eq!(
            allow(
                &other_site,
                "GET",
                Some(&acc),
                Action::ReadPublic(Area::Posts)
            ),
            Err(Denial::OutsideConstraints)
        );
        let get_only = principal(
            Some(u.clone()),
            Constraints {
                methods: Some(vec!["GET".into()]),
                ..Default::default()
            },
        );
        assert_eq!(
            allow(&get_only, "DELETE", Some(&acc), CREATE),
            Err(Denial::OutsideConstraints)
        );
        let read_scope = principal(
            Some(u.clone()),
            Constraints {
                scopes: Some(vec![Scope::PostsRead]),
                ..Default::default()
            },
        );
        assert_eq!(
            allow(&read_scope, "POST", Some(&acc), CREATE),
            Err(Denial::InsufficientScope)
        );
        assert_eq!(allow(&read_scope, "GET", None, Action::ReadSelf), Ok(()));
        assert_eq!(
            allow(&read_scope, "GET", None, Action::Sites { write: false }),
            Err(Denial::InsufficientScope)
        );
        let sites_write = principal(
            Some(u),
            Constraints {
                scopes: Some(vec![Scope::SitesWrite]),
                ..Default::default()
            },
        );
        assert_eq!(
            allow(&sites_write, "GET", None, Action::Sites { write: false }),
            Ok(())
        );
        assert_eq!(
            allow(&sites_write, "POST", None, Action::Sites { write: true }),
            Ok(())
        );
    }

    #[test]
    fn site_keys_read_their_site_only_and_never_write() {
        let key = Principal {
            user: None,
            credential: Credential::SiteKey(ApiKeyId(1)),
            constraints: Constraints {
                site: Some(SiteId(1)),
                read_only: true,
                ..Default::default()
            },
        };
        let closed = SiteAccess::new(&site(true), None, None);
        let read = Action::ReadPublic(Area::Posts);
        assert_eq!(
            allow(&key, "GET", Some(&closed), read),
            Ok(()),
            "also on a require_auth site"
        );
        assert_eq!(
            allow(&key, "POST", Some(&closed), CREATE),
            Err(Denial::OutsideConstraints)
        );
        let drafts = Action::Use {
            cap: Cap::EditPosts,
            area: Area::Posts,
            write: false,
        };
        assert_eq!(
            allow(&key, "GET", Some(&closed), drafts),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            allow(&key, "GET", None, Action::ReadSelf),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            allow(&key, "GET", None, read),
            Err(Denial::Forbidden),
            "a site key reads only where there is a site"
        );
        let mut other = site(false);
        other.id = SiteId(2);
        let other = SiteAccess::new(&other, None, None);
        assert_eq!(
            allow(&key, "GET", Some(&other), read),
            Err(Denial::OutsideConstraints)
        );
    }

    /// Every scope × action cell of the scope table, spelled out: a change to any cell fails here.
    #[test]
    fn every_scope_and_action_cell() {
        use Scope::*;
        let use_ = |cap, area, write| Action::Use { cap, area, write };
        let actions: [(&str, Action, &str); 12] = [
            ("read public posts", Action::ReadPublic(Area::Posts), "GET"),
            (
                "read public comments",
                Action::ReadPublic(Area::Comments),
                "GET",
            ),
            ("read public users", Action::ReadPublic(Area::Users), "GET"),
            (
                "read drafts",
                use_(Cap::EditPosts, Area::Posts, false),
                "GET",
            ),
            (
                "write posts",
                use_(Cap::EditPosts, Area::Posts, true),
                "POST",
            ),
            (
                "read held comments",
                use_(Cap::ModerateComments, Area::Comments, false),
                "GET",
            ),
            (
                "write comments",
                use_(Cap::ModerateComments, Area::Comments, true),
                "POST",
            ),
            (
                "list users",
                use_(Cap::ListUsers, Area::Users, false),
                "GET",
            ),
            (
                "edit users",
                use_(Cap::EditUsers, Area::Users, true),
                "POST",
            ),
            ("read self", Action::ReadSelf, "GET"),
            ("read sites", Action::Sites { write: false }, "GET"),
            ("write sites", Action::Sites { write: true }, "POST"),
        ];
        // Columns in the order of `actions`; 1 = the scope covers it.
        let table: [(Scope, [u8; 12]); 7] = [
            (Auth, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]),
            (Global, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
            (SitesRead, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0]),
            (SitesWrite, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]),
            (Posts, [1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0]),
            (PostsRead, [1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]),
            (Comments, [0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0]),
        ];
        assert_eq!(table.len(), Scope::ALL.len(), "every scope has a row");
        let u = user(false);
        let s = site(false);
        let admin = SiteAccess::new(&s, Some(&u), Some(Role::Administrator));
        for (scope, row) in table {
            for ((what, action, method), cell) in actions.iter().zip(row) {
                let p = principal(
                    Some(u.clone()),
                    Constraints {
                        scopes: Some(vec![scope]),
                        ..Constraints::default()
                    },
                );
                let got = allow(&p, method, Some(&admin), *action);
                let want = if cell == 1 {
                    Ok(())
                } else {
                    Err(Denial::InsufficientScope)
                };
                assert_eq!(got, want, "{scope:?} × {what}");
            }
        }
        // No scope limit: the role alone decides; several scopes are their union.
        let unlimited = principal(Some(u.clone()), Constraints::default());
        let both = principal(
            Some(u.clone()),
            Constraints {
                scopes: Some(vec![PostsRead, SitesWrite]),
                ..Constraints::default()
            },
        );
        for (what, action, method) in actions {
            assert_eq!(
                allow(&unlimited, method, Some(&admin), action),
                Ok(()),
                "{what}"
            );
        }
        assert_eq!(
            allow(&both, "POST", None, Action::Sites { write: true }),
            Ok(())
        );
        assert_eq!(
            allow(&both, "GET", Some(&admin), Action::ReadPublic(Area::Posts)),
            Ok(())
        );
        assert_eq!(
            allow(
                &both,
                "POST",
                Some(&admin),
                use_(Cap::EditPosts, Area::Posts, true)
            ),
            Err(Denial::InsufficientScope)
        );
    }
}
