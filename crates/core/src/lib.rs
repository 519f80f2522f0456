//! Gatehouse's domain and protocols, pure: the identity model, capabilities, the one policy
//! decision, password hashing, throttling arithmetic and the storage traits.
//! Owns no I/O: storage is reached only through the traits in `store`, time only through `clock`.
//! SPEC §1 (identity model), §2 (throttling, Argon2id), §0 (transport and proxy rules, in `net`).
//! Invariants: every allow/deny decision is `policy::allow`; passwords exist only as Argon2id PHC strings.

pub mod admin;
pub mod authn;
pub mod caps;
pub mod clock;
pub mod credentials;
pub mod flash;
pub mod model;
pub mod net;
pub mod oauth1;
pub mod oauth2;
pub mod password;
pub mod policy;
pub mod posts;
pub mod redirect;
pub mod secrets;
pub mod sessions;
pub mod store;
pub mod throttle;
pub mod validate;
