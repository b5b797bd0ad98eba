//! The webhook sink: JSON batches POSTed to a URL.

#[derive(Clone, Debug, PartialEq)]
pub struct WebhookSpec {
    pub url: url::Url,
}
