//! What the user typed as an org (`acme.okta.com`, `https://acme.okta.com/`, `http://127.0.0.1:8080`)
//! turned into the org's base URL, or refused with the reason and the fix.
//!
//! The rules, and why:
//! * https only: the API token travels in every request. Plain http is allowed on loopback hosts
//!   (127.0.0.0/8, `[::1]`, `localhost`) because that is how the simulator is reached, and nothing
//!   leaves the machine.
//! * Okta's own domains are accepted as `ORG.<domain>`. Anything else is a custom domain, accepted only
//!   when the user explicitly allows it: a typo (`acme.okta.co`) must not send a token to a stranger.
//! * `ORG-admin.<okta domain>` is the Admin Console's host; the API there answers 302, so it is
//!   corrected to `ORG.<okta domain>` with a warning, as Okta's SDKs do (they refuse it outright).
//! * The base URL only: no path (an `/oauth2/default` issuer or an `/api/v1` URL is a common paste),
//!   no query, no user name or password.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

/// The domains Okta serves orgs on. Sources: Okta's SDK configuration checks, which list the same set
/// (okta-sdk-java's `ConfigurationValidator` and okta-sdk-dotnet's `-admin` checks: okta.com,
/// oktapreview.com, okta-emea.com, okta-gov.com, okta.mil, okta-miltest.com, trex-gov.com,
/// trex-govcloud.com), and the DESIGN brief. Okta's internal cells (okta1.com, trexcloud.com, ...)
/// serve no customer orgs and are left out; a user who needs one can allow it as a custom domain.
pub const OKTA_DOMAINS: &[&str] = &[
    "okta.com",
    "oktapreview.com",
    "okta-emea.com",
    "okta-gov.com",
    "okta.mil",
    "okta-miltest.com",
    "trex-gov.com",
    "trex-govcloud.com",
];

/// Hosts on Okta's domains that are Okta's own sites, not orgs: a token sent there is wasted at best.
const OKTA_SITES: &[&str] = &["www", "developer", "help", "support", "login", "status"];

/// What kind of host an accepted org URL has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainKind {
    Okta,
    Custom,
    Loopback,
}

/// An accepted org URL: `scheme://host[:port]/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgUrl {
    pub url: Url,
    pub kind: DomainKind,
    /// Corrections made on the way (shown to the user, never fatal).
    pub warnings: Vec<Warning>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// `acme-admin.okta.com` became `acme.okta.com`.
    AdminDomainCorrected { from: String, to: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::AdminDomainCorrected { from, to } => write!(
                f,
                "{from} is the Admin Console's domain (the API answers 302 there): using {to} instead"
            ),
        }
    }
}

/// Why an org URL was refused. `Display` says why and how to fix it; it never repeats a user name or
/// password the input carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainError {
    Empty,
    /// Not a URL at all (`url`'s reason).
    Malformed {
        input: String,
        reason: String,
    },
    /// Still the `{yourOktaDomain}` placeholder of Okta's samples.
    Placeholder,
    Scheme {
        scheme: String,
    },
    /// http on a host that is not loopback.
    PlainHttp {
        host: String,
    },
    UserInfo,
    Path {
        path: String,
    },
    QueryOrFragment,
    /// An IP address that is not loopback.
    IpAddress {
        host: String,
    },
    /// `okta.com` itself, `www.okta.com`, `a.b.okta.com`: on Okta's domain but not an org.
    NotAnOrg {
        host: String,
        domain: String,
    },
    /// An Okta domain on a port other than 443.
    Port {
        host: String,
        port: u16,
    },
    /// A host outside Okta's domains, without `--allow-custom-domain`.
    CustomDomain {
        host: String,
    },
}

const EXAMPLE: &str = "give the org's address, e.g. acme.okta.com or https://acme.okta.com";

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DomainError::Empty => write!(f, "the org URL is empty: {EXAMPLE}"),
            DomainError::Malformed { input, reason } => {
                write!(f, "'{input}' is not a URL ({reason}): {EXAMPLE}")
            }
            DomainError::Placeholder => write!(
                f,
                "the org URL is still the placeholder {{yourOktaDomain}}: {EXAMPLE}"
            ),
            DomainError::Scheme { scheme } => write!(
                f,
                "'{scheme}:' is not how Okta is reached: Okta's API is served over https ({EXAMPLE})"
            ),
            DomainError::PlainHttp { host } => write!(
                f,
                "http://{host} would send the API token unencrypted: use https://{host} \
                 (plain http is only allowed on loopback hosts such as 127.0.0.1, where the simulator runs)"
            ),
            DomainError::UserInfo => write!(
                f,
                "the org URL must not contain a user name or password: remove the 'user:password@' part \
                 (the API token is given separately)"
            ),
            DomainError::Path { path } => write!(
                f,
                "the org URL has a path ({path}): give the org's base URL only, without /api/v1, \
                 /oauth2/... or /admin, e.g. https://acme.okta.com"
            ),
            DomainError::QueryOrFragment => write!(
                f,
                "the org URL must not have a query (?...) or fragment (#...): give the org's base URL only, \
                 e.g. https://acme.okta.com"
            ),
            DomainError::IpAddress { host } => write!(
                f,
                "{host} is an IP address: Okta orgs are reached by name ({EXAMPLE}); \
                 only loopback addresses (the simulator) are accepted"
            ),
            DomainError::NotAnOrg { host, domain } => write!(
                f,
                "{host} is not an Okta org: an org is ORG.{domain} with your org's name as ORG \
                 (copy it from the Admin Console, dropping '-admin')"
            ),
            DomainError::Port { host, port } => write!(
                f,
                "{host} is served on port 443 only, not {port}: remove ':{port}'"
            ),
            DomainError::CustomDomain { host } => write!(
                f,
                "{host} is not one of Okta's domains ({}): check it for typos; if it is your org's \
                 custom domain, allow it with --allow-custom-domain",
                OKTA_DOMAINS.join(", ")
            ),
        }
    }
}

impl std::error::Error for DomainError {}

impl OrgUrl {
    /// Parses what the user typed. A bare host means https. `allow_custom_domain` accepts hosts outside
    /// Okta's domains (still https only).
    pub fn parse(input: &str, allow_custom_domain: bool) -> Result<OrgUrl, DomainError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(DomainError::Empty);
        }
        if input.to_ascii_lowercase().contains("{youroktadomain}") {
            return Err(DomainError::Placeholder);
        }
        let with_scheme = if input.contains("://") {
            input.to_string()
        } else {
            format!("https://{input}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| DomainError::Malformed {
            input: redact_userinfo(input),
            reason: e.to_string(),
        })?;

        let scheme = url.scheme();
        if scheme != "https" && scheme != "http" {
            return Err(DomainError::Scheme {
                scheme: scheme.to_string(),
            });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(DomainError::UserInfo);
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(DomainError::QueryOrFragment);
        }
        if url.path() != "/" {
            return Err(DomainError::Path {
                path: url.path().to_string(),
            });
        }
        let host = url
            .host()
            .map(|h| h.to_owned())
            .ok_or_else(|| DomainError::Malformed {
                input: redact_userinfo(input),
                reason: "no host".to_string(),
            })?;
        let host_text = url.host_str().unwrap_or_default().to_string();

        if is_loopback(&host) {
            return Ok(OrgUrl {
                url,
                kind: DomainKind::Loopback,
                warnings: Vec::new(),
            });
        }
        if scheme == "http" {
            return Err(DomainError::PlainHttp { host: host_text });
        }
        let Host::Domain(name) = host else {
            return Err(DomainError::IpAddress { host: host_text });
        };

        let Some((label, domain)) = okta_org_label(&name) else {
            if let Some(domain) = OKTA_DOMAINS
                .iter()
                .find(|d| name == **d || name.ends_with(&format!(".{d}")))
            {
                return Err(DomainError::NotAnOrg {
                    host: host_text,
                    domain: domain.to_string(),
                });
            }
            if !allow_custom_domain {
                return Err(DomainError::CustomDomain { host: host_text });
            }
            return Ok(OrgUrl {
                url,
                kind: DomainKind::Custom,
                warnings: Vec::new(),
            });
        };

        if let Some(port) = url.port() {
            return Err(DomainError::Port {
                host: host_text,
                port,
            });
        }
        let mut warnings = Vec::new();
        let mut url = url;
        if let Some(org) = label.strip_suffix("-admin").filter(|org| !org.is_empty()) {
            let corrected = format!("{org}.{domain}");
            // A label cut from a valid host, on a valid domain: always a valid host.
            let _ = url.set_host(Some(&corrected));
            warnings.push(Warning::AdminDomainCorrected {
                from: host_text,
                to: corrected,
            });
        }
        Ok(OrgUrl {
            url,
            kind: DomainKind::Okta,
            warnings,
        })
    }
}

/// `ORG.<okta domain>` → (`ORG`, the domain): exactly one label in front, and not one of Okta's sites.
fn okta_org_label(host: &str) -> Option<(&str, &'static str)> {
    OKTA_DOMAINS.iter().find_map(|domain| {
        let label = host.strip_suffix(domain)?.strip_suffix('.')?;
        let is_org = !label.is_empty()
            && !label.contains('.')
            && label != "-admin"
            && !OKTA_SITES.contains(&label);
        is_org.then_some((label, *domain))
    })
}

fn is_loopback(host: &Host<String>) -> bool {
    match host {
        Host::Domain(name) => name == "localhost",
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// The input for an error message, with any `user:password@` cut out.
fn redact_userinfo(input: &str) -> String {
    match (input.find('@'), input.find("://")) {
        (Some(at), Some(sep)) if sep < at => {
            format!("{}://<redacted>@{}", &input[..sep], &input[at + 1..])
        }
        (Some(at), None) => format!("<redacted>@{}", &input[at + 1..]),
        _ => input.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> OrgUrl {
        OrgUrl::parse(input, false).unwrap_or_else(|e| panic!("{input}: {e}"))
    }
    fn err(input: &str) -> DomainError {
        match OrgUrl::parse(input, false) {
            Ok(u) => panic!("{input} accepted as {}", u.url),
            Err(e) => e,
        }
    }

    #[test]
    fn okta_domains_in_every_spelling() {
        for input in [
            "acme.okta.com",
            "https://acme.okta.com",
            "https://acme.okta.com/",
            "  ACME.Okta.com  ",
            "https://acme.okta.com:443/",
        ] {
            let parsed = ok(input);
            assert_eq!(parsed.url.as_str(), "https://acme.okta.com/", "{input}");
            assert_eq!(parsed.kind, DomainKind::Okta);
            assert!(parsed.warnings.is_empty());
        }
        for domain in OKTA_DOMAINS {
            let parsed = ok(&format!("dev-123456.{domain}"));
            assert_eq!(parsed.url.as_str(), format!("https://dev-123456.{domain}/"));
        }
    }

    #[test]
    fn admin_domains_are_corrected_with_a_warning() {
        let parsed = ok("https://acme-admin.oktapreview.com/");
        assert_eq!(parsed.url.as_str(), "https://acme.oktapreview.com/");
        assert_eq!(
            parsed.warnings,
            vec![Warning::AdminDomainCorrected {
                from: "acme-admin.oktapreview.com".into(),
                to: "acme.oktapreview.com".into()
            }]
        );
        let text = parsed.warnings[0].to_string();
        assert!(
            text.contains("302") && text.contains("using acme.oktapreview.com"),
            "{text}"
        );
        // "-admin" alone is not an org name to correct to.
        assert!(matches!(
            err("-admin.okta.com"),
            DomainError::NotAnOrg { .. } | DomainError::Malformed { .. }
        ));
    }

    #[test]
    fn loopback_takes_http_and_any_port() {
        for (input, want) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/"),
            ("http://127.1.2.3:9", "http://127.1.2.3:9/"),
            ("http://[::1]:8080", "http://[::1]:8080/"),
            ("http://localhost:8080", "http://localhost:8080/"),
            ("https://127.0.0.1:8443", "https://127.0.0.1:8443/"),
            ("127.0.0.1:8080", "https://127.0.0.1:8080/"),
        ] {
            let parsed = ok(input);
            assert_eq!(parsed.url.as_str(), want, "{input}");
            assert_eq!(parsed.kind, DomainKind::Loopback);
        }
    }

    #[test]
    fn plain_http_elsewhere_is_refused() {
        let e = err("http://acme.okta.com");
        assert_eq!(
            e,
            DomainError::PlainHttp {
                host: "acme.okta.com".into()
            }
        );
        assert!(e.to_string().contains("use https://acme.okta.com"), "{e}");
        assert!(matches!(
            err("http://10.0.0.1:8080"),
            DomainError::PlainHttp { .. }
        ));
        assert!(matches!(
            OrgUrl::parse("http://login.example.com", true),
            Err(DomainError::PlainHttp { .. })
        ));
    }

    #[test]
    fn custom_domains_need_explicit_permission() {
        let e = err("login.example.com");
        assert_eq!(
            e,
            DomainError::CustomDomain {
                host: "login.example.com".into()
            }
        );
        assert!(e.to_string().contains("--allow-custom-domain"), "{e}");
        assert!(
            e.to_string().contains("okta-emea.com"),
            "names Okta's domains: {e}"
        );
        // A typo of an Okta domain is a custom domain too: refused by default.
        assert!(matches!(
            err("acme.okta.co"),
            DomainError::CustomDomain { .. }
        ));

        let parsed = OrgUrl::parse("https://login.example.com/", true).unwrap();
        assert_eq!(parsed.url.as_str(), "https://login.example.com/");
        assert_eq!(parsed.kind, DomainKind::Custom);
        // Custom domains keep their port and are not "-admin"-corrected: the name is theirs.
        let parsed = OrgUrl::parse("https://sso-admin.example.com:8443", true).unwrap();
        assert_eq!(parsed.url.as_str(), "https://sso-admin.example.com:8443/");
        assert!(parsed.warnings.is_empty());
    }

    #[test]
    fn paths_queries_and_fragments_are_refused() {
        for input in [
            "https://acme.okta.com/oauth2/default",
            "https://acme.okta.com/api/v1",
            "https://acme.okta.com/admin/dashboard",
            "acme.okta.com/x",
        ] {
            let e = err(input);
            assert!(matches!(e, DomainError::Path { .. }), "{input}: {e:?}");
            assert!(e.to_string().contains("base URL only"), "{e}");
        }
        assert_eq!(
            err("https://acme.okta.com/?a=b"),
            DomainError::QueryOrFragment
        );
        assert_eq!(
            err("https://acme.okta.com/#x"),
            DomainError::QueryOrFragment
        );
    }

    #[test]
    fn user_info_is_refused_without_being_echoed() {
        for input in [
            "https://admin:hunter2@acme.okta.com",
            "https://admin@acme.okta.com",
            "admin:hunter2@acme.okta.com",
        ] {
            let e = err(input);
            assert_eq!(e, DomainError::UserInfo, "{input}");
            assert!(!e.to_string().contains("hunter2"));
        }
        // Even a malformed URL does not repeat the password.
        let e = err("https://admin:hunter2@acme okta.com");
        assert!(matches!(e, DomainError::Malformed { .. }), "{e:?}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn not_an_org_on_oktas_domains() {
        for input in [
            "okta.com",
            "www.okta.com",
            "developer.okta.com",
            "a.b.okta.com",
        ] {
            let e = err(input);
            assert!(matches!(e, DomainError::NotAnOrg { .. }), "{input}: {e:?}");
            assert!(e.to_string().contains("ORG.okta.com"), "{e}");
        }
    }

    #[test]
    fn other_refusals_say_why() {
        assert_eq!(err(""), DomainError::Empty);
        assert_eq!(err("   "), DomainError::Empty);
        assert_eq!(err("https://{yourOktaDomain}"), DomainError::Placeholder);
        assert_eq!(
            err("ftp://acme.okta.com"),
            DomainError::Scheme {
                scheme: "ftp".into()
            }
        );
        assert_eq!(
            err("https://10.1.2.3"),
            DomainError::IpAddress {
                host: "10.1.2.3".into()
            }
        );
        assert!(matches!(
            err("https://[2001:db8::1]"),
            DomainError::IpAddress { .. }
        ));
        assert_eq!(
            err("https://acme.okta.com:8443"),
            DomainError::Port {
                host: "acme.okta.com".into(),
                port: 8443
            }
        );
        let e = err("https://acme .okta.com");
        assert!(matches!(e, DomainError::Malformed { .. }), "{e:?}");
        assert!(e.to_string().contains("e.g. acme.okta.com"), "{e}");
    }
}
