//! WordPress's meta-capabilities for posts (`map_meta_cap` for `edit_post`, `delete_post`,
//! `read_post`, and publishing), as pure functions: which primitive capabilities a user needs
//! for one post. SPEC §9 ("a contributor creates drafts only; an author edits only their own
//! posts"). The handler asks `policy::allow` for each capability returned.

use crate::caps::Cap;
use crate::model::{PostStatus, UserId};

/// Capabilities to edit a post by `author` in `status`, as `user`.
pub fn edit_caps(author: UserId, status: PostStatus, user: Option<UserId>) -> Vec<Cap> {
    let own = user == Some(author);
    let mut caps = vec![if own {
        Cap::EditPosts
    } else {
        Cap::EditOthersPosts
    }];
    match status {
        PostStatus::Publish | PostStatus::Future => caps.push(Cap::EditPublishedPosts),
        PostStatus::Private if !own => caps.push(Cap::EditPrivatePosts),
        _ => {}
    }
    caps
}

/// Capabilities to delete (or trash) a post.
pub fn delete_caps(author: UserId, status: PostStatus, user: Option<UserId>) -> Vec<Cap> {
    let own = user == Some(author);
    let mut caps = vec![if own {
        Cap::DeletePosts
    } else {
        Cap::DeleteOthersPosts
    }];
    match status {
        PostStatus::Publish | PostStatus::Future => caps.push(Cap::DeletePublishedPosts),
        PostStatus::Private if !own => caps.push(Cap::DeletePrivatePosts),
        _ => {}
    }
    caps
}

/// How a post may be read: `None` = by anyone who may read the site; otherwise these caps.
pub fn read_caps(author: UserId, status: PostStatus, user: Option<UserId>) -> Option<Vec<Cap>> {
    match status {
        PostStatus::Publish => None,
        PostStatus::Private if user == Some(author) => Some(vec![Cap::Read]),
        PostStatus::Private => Some(vec![Cap::ReadPrivatePosts]),
        _ => Some(edit_caps(author, status, user)),
    }
}

/// Setting this status needs `publish_posts` (WordPress: publish, future and private).
pub fn status_needs_publish(status: PostStatus) -> bool {
    matches!(
        status,
        PostStatus::Publish | PostStatus::Future | PostStatus::Private
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: UserId = UserId(1);
    const OTHER: UserId = UserId(2);

    #[test]
    fn editing_follows_map_meta_cap() {
        assert_eq!(
            edit_caps(ME, PostStatus::Draft, Some(ME)),
            vec![Cap::EditPosts]
        );
        assert_eq!(
            edit_caps(ME, PostStatus::Publish, Some(ME)),
            vec![Cap::EditPosts, Cap::EditPublishedPosts]
        );
        assert_eq!(
            edit_caps(OTHER, PostStatus::Private, Some(ME)),
            vec![Cap::EditOthersPosts, Cap::EditPrivatePosts]
        );
        assert_eq!(
            edit_caps(ME, PostStatus::Draft, None),
            vec![Cap::EditOthersPosts]
        );
    }

    #[test]
    fn deleting_and_reading() {
        assert_eq!(
            delete_caps(OTHER, PostStatus::Publish, Some(ME)),
            vec![Cap::DeleteOthersPosts, Cap::DeletePublishedPosts]
        );
        assert_eq!(read_caps(OTHER, PostStatus::Publish, None), None);
        assert_eq!(
            read_caps(ME, PostStatus::Private, Some(ME)),
            Some(vec![Cap::Read])
        );
        assert_eq!(
            read_caps(OTHER, PostStatus::Draft, Some(ME)),
            Some(vec![Cap::EditOthersPosts])
        );
        assert!(status_needs_publish(PostStatus::Private));
        assert!(!status_needs_publish(PostStatus::Pending));
    }
}
