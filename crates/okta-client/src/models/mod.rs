//! Typed models. Filled in by the models work: each keeps unknown and custom fields in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogEvent {
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
