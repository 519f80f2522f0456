// Shared by the build scripts of the crates whose tests need outside tools (included with
// `include!`). It decides at build time which optional halves of the test suite can run here and
// sets a cfg for each one that cannot, so those tests are marked `#[ignore = "how to enable"]`
// and cargo's own summary counts them as ignored — a skip is never reported as a pass.
// When CI requires a tool (`GATEHOUSE_TEST_REQUIRE_*=1`) nothing is ignored: the tests run and
// fail loudly if the tool is missing.

#[allow(dead_code)]
fn emit_test_cfgs() {
    use std::path::{Path, PathBuf};
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.join("../..");
    let env_on = |name: &str| {
        println!("cargo::rerun-if-env-changed={name}");
        std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
    };
    let required = |name: &str| {
        println!("cargo::rerun-if-env-changed={name}");
        std::env::var(name).is_ok_and(|v| v == "1")
    };
    let cfg = |name: &str, missing: bool| {
        println!("cargo::rustc-check-cfg=cfg({name})");
        if missing {
            println!("cargo::rustc-cfg={name}");
        }
    };
    // Directories that change when a tool is installed, so the decision is made again then.
    let watch = |p: &Path| {
        if p.exists() {
            println!("cargo::rerun-if-changed={}", p.display());
        }
    };

    cfg(
        "gatehouse_no_postgres",
        !env_on("GATEHOUSE_TEST_POSTGRES_URL") && !required("GATEHOUSE_TEST_REQUIRE_POSTGRES"),
    );

    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    println!("cargo::rerun-if-env-changed=CHROMIUM");
    let browser_dir = root.join("tests/browser");
    let modules = browser_dir.join("node_modules");
    watch(&browser_dir);
    watch(&modules);
    watch(Path::new(&chromium).parent().unwrap_or(Path::new("/usr/bin")));
    let require_chromium = required("GATEHOUSE_TEST_REQUIRE_CHROMIUM");
    let chromium_ready =
        Path::new(&chromium).exists() && modules.join("playwright-core").exists();
    cfg("gatehouse_no_chromium", !chromium_ready && !require_chromium);
    cfg(
        "gatehouse_no_wpapi",
        !modules.join("wpapi").exists() && !require_chromium,
    );

    let python = std::process::Command::new("python3")
        .args(["-c", "import requests, site; print(site.getsitepackages()[0])"])
        .output();
    let has_requests = match &python {
        Ok(out) if out.status.success() => {
            watch(Path::new(String::from_utf8_lossy(&out.stdout).trim()));
            true
        }
        _ => false,
    };
    let require_python = required("GATEHOUSE_TEST_REQUIRE_PYTHON");
    cfg(
        "gatehouse_no_python_requests",
        !has_requests && !require_python,
    );
    let has_oauthlib = std::process::Command::new("python3")
        .args(["-c", "import requests_oauthlib"])
        .status()
        .is_ok_and(|s| s.success());
    cfg(
        "gatehouse_no_python_oauthlib",
        !has_oauthlib && !require_python,
    );
}
