//! [`SinkSpec`] as users write it: the `--sink` shorthand ([`FromStr`]) and the `sink:` value of a
//! `serve` configuration ([`Deserialize`]); and [`SinkSpec::open`], which turns it into a [`Sink`].

use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::exec::{ExecSink, ExecSpec};
use super::file::{FileSink, FileSpec};
use super::stdout::StdoutSink;
use super::webhook::{WebhookSink, WebhookSpec};
use super::{Sink, SinkSpec};

/// The shorthands, for error messages.
const KINDS: &str = "stdout, file:PATH, webhook:URL or exec:COMMAND [ARGS...] (or a YAML map such as \
                     {webhook: {url: URL, secret_headers: {Authorization: ENV_VAR}}})";

impl FromStr for SinkSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<SinkSpec, String> {
        let text = text.trim();
        // The map form inline, so options the shorthand cannot say (secret headers, timeouts) are
        // reachable from `--sink` too.
        if text.starts_with('{') {
            return serde_yaml::from_str(text).map_err(|e| format!("sink {e}"));
        }
        if text == "stdout" {
            return Ok(SinkSpec::Stdout);
        }
        let Some((kind, rest)) = text.split_once(':') else {
            return Err(format!(
                "unknown sink '{text}': use {KINDS} (for a file, write file:{text})"
            ));
        };
        match kind {
            "file" => FileSpec::parse(rest).map(SinkSpec::File),
            "webhook" => WebhookSpec::parse(rest).map(SinkSpec::Webhook),
            "exec" => ExecSpec::parse(rest).map(SinkSpec::Exec),
            // Never echo the rest: it may be a URL with credentials.
            other => Err(format!("unknown sink kind '{other}': use {KINDS}")),
        }
    }
}

impl<'de> Deserialize<'de> for SinkSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SinkSpec, D::Error> {
        d.deserialize_any(SpecVisitor)
    }
}

struct SpecVisitor;

/// `{stdout: null}` or `{stdout: {}}`: stdout has no options, and an unknown one is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoOptions {}

impl<'de> Visitor<'de> for SpecVisitor {
    type Value = SinkSpec;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a sink: {KINDS}")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<SinkSpec, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SinkSpec, A::Error> {
        let Some(kind) = map.next_key::<String>()? else {
            return Err(de::Error::custom(format!(
                "an empty map is not a sink: use {KINDS}"
            )));
        };
        let spec = match kind.as_str() {
            "stdout" => {
                map.next_value::<Option<NoOptions>>()?;
                SinkSpec::Stdout
            }
            "file" => SinkSpec::File(map.next_value()?),
            "webhook" => SinkSpec::Webhook(map.next_value()?),
            "exec" => SinkSpec::Exec(map.next_value()?),
            other => {
                return Err(de::Error::custom(format!(
                    "unknown sink kind '{other}': the kinds are stdout, file, webhook and exec"
                )));
            }
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "a sink has one kind, this one has '{kind}' and '{extra}'"
            )));
        }
        Ok(spec)
    }
}

impl SinkSpec {
    /// Opens the sink: creates or opens the file, reads the webhook's secret headers from the
    /// environment, checks that the exec command exists.
    pub fn open(&self) -> anyhow::Result<Box<dyn Sink>> {
        self.open_with_env(&|name| std::env::var(name).ok())
    }

    /// [`open`](Self::open) with the environment given (tests, or a runner that has its own).
    pub fn open_with_env(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Box<dyn Sink>> {
        Ok(match self {
            SinkSpec::Stdout => Box::new(StdoutSink::new()),
            SinkSpec::File(spec) => Box::new(FileSink::open(spec)?),
            SinkSpec::Webhook(spec) => Box::new(WebhookSink::open(spec, env)?),
            SinkSpec::Exec(spec) => Box::new(ExecSink::open(spec, env)?),
        })
    }
}
