//! `okta-connector demo` runs end to end against its in-process simulated org.

use crate::{cmd, describe};

#[test]
fn demo_walks_through_the_org() {
    let out = cmd().arg("demo").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", describe(&out));
    for expected in [
        "followed `next` links through",
        "a malformed search is refused: 400 E0000031",
        "invalid input is refused before anything happens: 400 E0000001",
        "activate (no email) → activation URL http://127.0.0.1:",
        "suspending again: 403",
        "unsuspend → \"ACTIVE\"",
        "first DELETE deactivates: \"DEPROVISIONED\"",
        "second DELETE deletes: 404 E0000007",
        "user.lifecycle.create",
        "user.lifecycle.suspend",
        "group.user_membership.add",
        "user.lifecycle.delete",
        "the page ends with a `next` link to poll from: yes",
    ] {
        assert!(
            text.contains(expected),
            "missing {expected:?}\n{}",
            describe(&out)
        );
    }
}
