//! Decides which optional halves of this crate's tests can run here (see
//! `build-support/test_cfg.rs`); those that cannot are marked ignored, with how to enable them.
include!("../../build-support/test_cfg.rs");

fn main() {
    emit_test_cfgs();
}
