//! Okta Event Hooks (FACTS.md §6): the registry behind `/api/v1/eventHooks` (`model`), the calls to
//! a hook's endpoint (`outbound`: verification and delivery POSTs) and the per-hook delivery queues
//! fed by the System Log (`delivery`).

pub mod delivery;
pub mod model;
pub mod outbound;

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::Sim;
use crate::config::HookDelivery;
use delivery::Delivery;
use model::EventHook;
use outbound::Outbound;

/// The org's event hooks. Ids sort in creation order, so the map is the list order.
#[derive(Debug)]
pub struct EventHooks {
    registry: RwLock<BTreeMap<String, EventHook>>,
    pub delivery: Delivery,
}

impl EventHooks {
    pub fn new(settings: HookDelivery) -> Self {
        EventHooks {
            registry: RwLock::new(BTreeMap::new()),
            delivery: Delivery::new(settings),
        }
    }

    pub fn get(&self, id: &str) -> Option<EventHook> {
        self.registry.read().get(id).cloned()
    }

    pub fn list(&self) -> Vec<EventHook> {
        self.registry.read().values().cloned().collect()
    }

    /// Runs `f` on the registry under its read lock.
    pub fn read<R>(&self, f: impl FnOnce(&BTreeMap<String, EventHook>) -> R) -> R {
        f(&self.registry.read())
    }

    /// Runs `f` on the registry under its write lock (checks and changes in one step).
    pub fn write<R>(&self, f: impl FnOnce(&mut BTreeMap<String, EventHook>) -> R) -> R {
        f(&mut self.registry.write())
    }

    /// After hook `id` changed (or went away): start, retarget or stop its deliveries.
    pub fn sync(&self, sim: &Arc<Sim>, id: &str) {
        self.delivery.sync(sim, id, || {
            self.registry
                .read()
                .get(id)
                .filter(|h| h.deliverable())
                .and_then(Outbound::of)
        });
    }

    /// How many hooks are ACTIVE and VERIFIED, leaving out `except`.
    pub fn deliverable_count(hooks: &BTreeMap<String, EventHook>, except: &str) -> usize {
        hooks
            .values()
            .filter(|h| h.deliverable() && h.id != except)
            .count()
    }
}
