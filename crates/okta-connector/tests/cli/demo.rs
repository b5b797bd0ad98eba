//! `okta-connector demo` runs end to end against its in-process simulated org, and what it prints is
//! what happened: the counts agree with each other, the refusals carry Okta's codes, the System Log
//! shows the demo's own steps, and the registry's actions print rows.

use crate::{cmd, describe};

/// The line containing `marker` (the demo prints each claim once).
fn line<'a>(text: &'a str, marker: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no line with {marker:?} in\n{text}"))
}

/// The number right after `before` in `line`.
fn number_after(line: &str, before: &str) -> u64 {
    let rest = &line[line
        .find(before)
        .unwrap_or_else(|| panic!("no {before:?} in {line:?}"))
        + before.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after {before:?} in {line:?}"))
}

#[test]
fn demo_walks_through_the_org() {
    let out = cmd().arg("demo").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", describe(&out));

    // Paging: every user the org lists, over more than one page of 20.
    let paged = line(&text, "users in ");
    let streamed = number_after(paged, "streamed ");
    let pages = number_after(paged, "users in ");
    assert_eq!(streamed, number_after(paged, "the org holds "), "{paged}");
    assert!(streamed > 20, "{paged}");
    assert!(pages >= streamed.div_ceil(20), "{paged}");

    // Connected as an API Services app: private_key_jwt, and DPoP because the app requires it.
    assert!(
        text.contains("Connected with OAuth 2.0 client credentials (private_key_jwt, ES256); DPoP: on (Okta required it); token type DPoP; 8 scopes granted"),
        "{}",
        describe(&out)
    );

    // Okta's refusals, from okta_client::Error's fields.
    for expected in [
        "a malformed search is refused: 400 E0000031",
        "invalid input is refused before anything happens: 400 E0000001",
        "activation link on http://127.0.0.1:",
        "suspend → SUSPENDED; suspending again: 403 E0000038",
        "unsuspend → ACTIVE",
        "first DELETE deactivates: DEPROVISIONED",
        "second DELETE deletes: 404 E0000007",
    ] {
        assert!(
            text.contains(expected),
            "missing {expected:?}\n{}",
            describe(&out)
        );
    }

    // Membership: one more member after the PUT, back after the DELETE.
    let added = line(&text, "after the PUT it has ");
    let before = number_after(added, " had ");
    assert_eq!(number_after(added, "it has "), before + 1, "{added}");
    assert!(added.ends_with("among them: yes)"), "{added}");
    let removed = line(&text, "after the DELETE: ");
    assert_eq!(
        number_after(removed, "after the DELETE: "),
        before,
        "{removed}"
    );
    assert!(removed.ends_with("among them: no)"), "{removed}");

    // The System Log: the demo's steps in order, as many as the poll counted; nothing new after.
    let polled = number_after(line(&text, "the poll read "), "the poll read ");
    let log =
        &text[text.find("6. The System Log").expect("step 6")..text.find("the poll read").unwrap()];
    let event_lines: Vec<&str> = log
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect();
    // The app's token grant, then the demo user's story.
    assert!(
        event_lines[0].contains("app.oauth2.token.grant.access_token")
            && event_lines[0].ends_with("0oademo0connector0app"),
        "{log}"
    );
    let event_lines = &event_lines[1..];
    assert!(
        event_lines
            .iter()
            .all(|l| l.ends_with("dana.demo@acme.example.com")),
        "{log}"
    );
    assert_eq!(event_lines.len() as u64 + 1, polled, "{}", describe(&out));
    let types: Vec<&str> = event_lines
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "user.lifecycle.create",
            "user.lifecycle.activate",
            "user.lifecycle.suspend",
            "user.lifecycle.unsuspend",
            "group.user_membership.add",
            "group.user_membership.remove",
            "user.lifecycle.deactivate",
            "user.lifecycle.delete.initiated",
            "user.lifecycle.delete.completed",
        ]
    );
    assert!(text.contains("polling again from that cursor: 0 new events"));
    assert_eq!(
        number_after(line(&text, "client.logs().search()"), ": "),
        polled - 1,
        "every event of the demo but the token grant targets the demo user"
    );

    // The registry's actions, printed as tables by output::Writer.
    let section = &text[text.find("7. Discovery actions").expect("step 7")..];
    assert!(section.contains("search_users {"));
    assert!(section.contains("ID                    STATUS"));
    assert!(
        section.contains("(3 rows)"),
        "search_users max 3\n{section}"
    );
    assert!(section.contains("get_user {\"user\":"));
    assert!(section.contains("(1 row)"), "get_user\n{section}");
    let log_rows = section
        .lines()
        .filter(|l| l.contains("group.user_membership.add") && l.contains("SUCCESS"))
        .count();
    assert_eq!(log_rows, 1, "search_system_log\n{section}");
    assert!(
        section.contains("invalid input: give at most one of q, filter, search (got q and search); requests sent: 0"),
        "{section}"
    );

    // Triggers: the demo's lifecycle events and membership changes delivered once, then nothing twice.
    let lifecycle = line(&text, "first run: new_events delivered ");
    assert!(number_after(lifecycle, "delivered ") >= 5, "{lifecycle}");
    let members = line(&text, "first run: group_membership_changed delivered ");
    assert_eq!(
        number_after(members, "delivered "),
        2,
        "added, then removed: {members}"
    );
    assert!(members.contains("\"change\":\"removed\""), "{members}");
    for again in [
        "run again: new_events delivered 0 records",
        "run again: group_membership_changed delivered 0 records",
    ] {
        assert!(text.contains(again), "missing {again:?}\n{text}");
    }

    // How to continue, and no credential in the output.
    assert!(text.contains("okta-connector sim --port 8080"));
    assert!(text.contains("okta-connector connections add sandbox"));
    assert!(text.contains("the simulator served "));
    for secret in ["SSWS ", "/tokens/", "activationToken", "Correct-Horse"] {
        assert!(!text.contains(secret), "{secret:?} printed\n{text}");
    }
}
