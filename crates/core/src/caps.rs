//! WordPress's five roles and the capabilities each grants (SPEC §1), as a small bit set.
//! Owns: the role → capability table, copied from WordPress's `populate_roles()`.
//! A network admin (WordPress's super admin) holds every capability on every site.

use serde::{Deserialize, Serialize};

/// One WordPress primitive capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Cap {
    Read = 1 << 0,
    EditPosts = 1 << 1,
    PublishPosts = 1 << 2,
    EditOthersPosts = 1 << 3,
    EditPublishedPosts = 1 << 4,
    DeletePosts = 1 << 5,
    DeleteOthersPosts = 1 << 6,
    DeletePublishedPosts = 1 << 7,
    EditPrivatePosts = 1 << 8,
    ReadPrivatePosts = 1 << 9,
    DeletePrivatePosts = 1 << 10,
    ModerateComments = 1 << 11,
    ListUsers = 1 << 12,
    EditUsers = 1 << 13,
    CreateUsers = 1 << 14,
    PromoteUsers = 1 << 15,
    ManageOptions = 1 << 16,
    UploadFiles = 1 << 17,
    /// Post HTML that is not sanitised. As on WordPress multisite, no role grants it: only
    /// network admins (super admins) hold it.
    UnfilteredHtml = 1 << 18,
}

impl Cap {
    pub const ALL: [Cap; 19] = [
        Cap::Read,
        Cap::EditPosts,
        Cap::PublishPosts,
        Cap::EditOthersPosts,
        Cap::EditPublishedPosts,
        Cap::DeletePosts,
        Cap::DeleteOthersPosts,
        Cap::DeletePublishedPosts,
        Cap::EditPrivatePosts,
        Cap::ReadPrivatePosts,
        Cap::DeletePrivatePosts,
        Cap::ModerateComments,
        Cap::ListUsers,
        Cap::EditUsers,
        Cap::CreateUsers,
        Cap::PromoteUsers,
        Cap::ManageOptions,
        Cap::UploadFiles,
        Cap::UnfilteredHtml,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Cap::Read => "read",
            Cap::EditPosts => "edit_posts",
            Cap::PublishPosts => "publish_posts",
            Cap::EditOthersPosts => "edit_others_posts",
            Cap::EditPublishedPosts => "edit_published_posts",
            Cap::DeletePosts => "delete_posts",
            Cap::DeleteOthersPosts => "delete_others_posts",
            Cap::DeletePublishedPosts => "delete_published_posts",
            Cap::EditPrivatePosts => "edit_private_posts",
            Cap::ReadPrivatePosts => "read_private_posts",
            Cap::DeletePrivatePosts => "delete_private_posts",
            Cap::ModerateComments => "moderate_comments",
            Cap::ListUsers => "list_users",
            Cap::EditUsers => "edit_users",
            Cap::CreateUsers => "create_users",
            Cap::PromoteUsers => "promote_users",
            Cap::ManageOptions => "manage_options",
            Cap::UploadFiles => "upload_files",
            Cap::UnfilteredHtml => "unfiltered_html",
        }
    }
}

/// A set of capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Caps(u32);

impl Caps {
    pub const NONE: Caps = Caps(0);
    pub const fn of(caps: &[Cap]) -> Caps {
        let mut bits = 0u32;
        let mut i = 0;
        while i < caps.len() {
            bits |= caps[i] as u32;
            i += 1;
        }
        Caps(bits)
    }
    pub fn all() -> Caps {
        Caps::of(&Cap::ALL)
    }
    pub fn has(self, cap: Cap) -> bool {
        self.0 & cap as u32 != 0
    }
    /// This set without `cap`.
    pub const fn without(self, cap: Cap) -> Caps {
        Caps(self.0 & !(cap as u32))
    }
    pub fn names(self) -> Vec<&'static str> {
        Cap::ALL
            .iter()
            .filter(|c| self.has(**c))
            .map(|c| c.name())
            .collect()
    }
}

/// The five WordPress roles, most powerful first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Administrator,
    Editor,
    Author,
    Contributor,
    Subscriber,
}

const SUBSCRIBER: Caps = Caps::of(&[Cap::Read]);
const CONTRIBUTOR: Caps = Caps::of(&[Cap::Read, Cap::EditPosts, Cap::DeletePosts]);
const AUTHOR: Caps = Caps::of(&[
    Cap::Read,
    Cap::EditPosts,
    Cap::DeletePosts,
    Cap::PublishPosts,
    Cap::EditPublishedPosts,
    Cap::DeletePublishedPosts,
    Cap::UploadFiles,
]);
const EDITOR: Caps = Caps::of(&[
    Cap::Read,
    Cap::EditPosts,
    Cap::DeletePosts,
    Cap::PublishPosts,
    Cap::EditPublishedPosts,
    Cap::DeletePublishedPosts,
    Cap::UploadFiles,
    Cap::EditOthersPosts,
    Cap::DeleteOthersPosts,
    Cap::EditPrivatePosts,
    Cap::ReadPrivatePosts,
    Cap::DeletePrivatePosts,
    Cap::ModerateComments,
]);

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Administrator,
        Role::Editor,
        Role::Author,
        Role::Contributor,
        Role::Subscriber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Editor => "editor",
            Role::Author => "author",
            Role::Contributor => "contributor",
            Role::Subscriber => "subscriber",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
    }

    pub fn caps(self) -> Caps {
        match self {
            // Every capability of the site but `unfiltered_html`, which (as on WordPress
            // multisite) only network admins hold: a site's administrator may not store script.
            Role::Administrator => Caps::of(&Cap::ALL).without(Cap::UnfilteredHtml),
            Role::Editor => EDITOR,
            Role::Author => AUTHOR,
            Role::Contributor => CONTRIBUTOR,
            Role::Subscriber => SUBSCRIBER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_wordpress_capabilities() {
        assert!(Role::Contributor.caps().has(Cap::EditPosts));
        assert!(!Role::Contributor.caps().has(Cap::PublishPosts));
        assert!(Role::Author.caps().has(Cap::PublishPosts));
        assert!(!Role::Author.caps().has(Cap::EditOthersPosts));
        assert!(Role::Editor.caps().has(Cap::EditOthersPosts));
        assert!(!Role::Editor.caps().has(Cap::ListUsers));
        assert!(Role::Administrator.caps().has(Cap::ManageOptions));
        assert_eq!(Role::Subscriber.caps().names(), vec!["read"]);
        // Only network admins (Caps::all) may write unfiltered HTML; no role grants it.
        for r in Role::ALL {
            assert!(!r.caps().has(Cap::UnfilteredHtml), "{r:?}");
        }
        assert!(Caps::all().has(Cap::UnfilteredHtml));
        assert_eq!(
            Role::Administrator.caps(),
            Caps::all().without(Cap::UnfilteredHtml)
        );
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("EDITOR"), Some(Role::Editor));
        assert_eq!(Role::parse("owner"), None);
    }
}
