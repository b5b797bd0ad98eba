//! Logging to stderr, as text for a person (the default) or as JSON lines for a log pipeline
//! (`serve --log-format json`).
//!
//! JSON lines carry an event's fields at the top level next to `timestamp`, `level`, `target` and
//! `message`, so a failed or retried Okta call's `okta_request_id` (set by okta-client) can be
//! searched for directly and handed to Okta's support. The level comes from `OKTA_CONNECTOR_LOG`
//! (an `EnvFilter` directive such as `info,okta_client=debug`), else the caller's default.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How log lines are written.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Deserialize,
    serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, the event's fields flattened into it.
    Json,
}

/// Installs the process-wide logger on stderr. A second call changes nothing (the first logger
/// stays), so tests and embedders may call it freely.
pub fn init_logging(format: LogFormat, default_level: &str) {
    let filter = EnvFilter::try_from_env("OKTA_CONNECTOR_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default_level));
    let _ = tracing::subscriber::set_global_default(subscriber(format, filter, std::io::stderr));
}

/// The logger itself, writing to `writer`.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(
            builder
                .with_ansi(false)
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use serde_json::Value;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture(format: LogFormat, f: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = subscriber(format, EnvFilter::new("info"), move || writer.clone());
        tracing::subscriber::with_default(subscriber, f);
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn json_lines_carry_the_fields_at_the_top_level() {
        let out = capture(LogFormat::Json, || {
            tracing::info!(okta_request_id = "XyZ123", status = 503u16, "retrying");
            tracing::debug!("filtered out");
        });
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{out}");
        let line = &lines[0];
        assert_eq!(line["okta_request_id"], "XyZ123");
        assert_eq!(line["status"], 503);
        assert_eq!(line["message"], "retrying");
        assert_eq!(line["level"], "INFO");
        assert!(line["timestamp"].is_string());
    }

    #[test]
    fn text_stays_text() {
        let out = capture(LogFormat::Text, || {
            tracing::info!(okta_request_id = "XyZ123", "retrying")
        });
        assert!(
            out.contains("retrying") && out.contains("okta_request_id"),
            "{out}"
        );
        assert!(serde_json::from_str::<Value>(out.trim()).is_err());
    }
}
