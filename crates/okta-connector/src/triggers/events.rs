//! System Log triggers.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{RecordDef, Source, Trigger};

macro_rules! placeholder {
    ($t:ident, $name:literal, $object:literal) => {
        pub struct $t;
        impl Trigger for $t {
            type Config = Empty;
            const NAME: &'static str = $name;
            const SUMMARY: &'static str = "(being built)";
            const RECORD: RecordDef = RecordDef {
                object: $object,
                id: "",
                details: None,
            };
            fn source(_config: Empty) -> Box<dyn Source> {
                unimplemented!()
            }
        }
    };
}

#[derive(Deserialize, JsonSchema)]
pub struct Empty {}

placeholder!(NewEvents, "new_events", "LogEvent");
placeholder!(
    GroupMembershipChanged,
    "group_membership_changed",
    "LogEvent"
);
placeholder!(DeletedObjects, "deleted_objects", "LogEvent");
