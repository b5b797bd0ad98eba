//! Okta's official Python SDK (strict generated models) against the simulator, over loopback.
//! CI installs the SDK (`pip install okta==3.4.6`); elsewhere the test says how when it is missing.

use std::process::Command;

use okta_sim::SimConfig;

use crate::support::TestOrg;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/okta_python_sdk.py");

fn sdk_available() -> bool {
    Command::new("python3")
        .args(["-c", "import okta.client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn official_python_sdk_reads_the_simulated_org() {
    if !sdk_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Okta's Python SDK: pip install okta==3.4.6"
        );
        eprintln!("SKIPPED: Okta's Python SDK is not installed (pip install okta==3.4.6)");
        return;
    }
    let org = TestOrg::with(SimConfig {
        users: 10,
        ..SimConfig::small()
    })
    .await;
    let base = org.server.base_url().to_string();
    let token = org.server.api_token();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(SCRIPT)
            .arg(base)
            .arg(token)
            // The simulator is plain HTTP on loopback; the SDK requires https unless testing.
            .env("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the SDK failed against the simulator:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
