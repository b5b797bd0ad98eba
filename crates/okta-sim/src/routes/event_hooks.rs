//! `/api/v1/eventHooks`: register, list, read, replace and delete event hooks, and their lifecycle
//! (activate, deactivate, verify). Scopes `okta.eventHooks.read` / `.manage` (checked in `auth`);
//! the rate-limit bucket is Okta's "most other endpoints" one (`ratelimit::OTHER`).
//!
//! Decisions where no source says what Okta answers (each with its reason):
//! - A hook is created ACTIVE and UNVERIFIED (spec; recorded).
//! - DELETE of an ACTIVE hook: the spec says "you can only delete event hooks with a status of
//!   INACTIVE" and lists 403 (ErrorAccessDenied: E0000006) as the only refusal, so 403 E0000006.
//! - A failed verification: 400 E0000001 "Api validation failed: eventHook" with the cause "Unable
//!   to verify event hook. Hook {name} execution failed" (Okta support article of that title). A
//!   hook that was VERIFIED stays so (only a changed channel unverifies it).
//! - The 25-hook limit (ACTIVE and VERIFIED) is checked when a hook would become both (activate,
//!   verify): 400 E0000001 "Api validation failed: eventHook".
//! - activate/deactivate of a hook already in that state answer the hook and log nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::Value;

use crate::Sim;
use crate::event_hooks::EventHooks;
use crate::event_hooks::model::{self, EventHook, MAX_ACTIVE_VERIFIED};
use crate::event_hooks::outbound::{self, Outbound};
use crate::http::{ApiError, ApiPath, ApiResult, json_body, no_content, ok};
use crate::syslog::{NewEvent, RequestCtx, Severity};

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v1/eventHooks", get(list).post(create))
        .route(
            "/api/v1/eventHooks/{id}",
            get(read).put(replace).delete(delete),
        )
        .route("/api/v1/eventHooks/{id}/lifecycle/activate", post(activate))
        .route(
            "/api/v1/eventHooks/{id}/lifecycle/deactivate",
            post(deactivate),
        )
        .route("/api/v1/eventHooks/{id}/lifecycle/verify", post(verify))
}

/// Okta's 404 for an unknown hook; the recorded kind word is `Webhook`.
fn not_found(id: &str) -> ApiError {
    ApiError::not_found(id, "Webhook")
}

fn limit_reached() -> ApiError {
    ApiError::validation(
        "eventHook",
        format!(
            "Your org has reached the limit of {MAX_ACTIVE_VERIFIED} active and verified event hooks."
        ),
    )
}

fn render(sim: &Sim, h: &EventHook) -> Value {
    model::render(sim.base_url(), h)
}

/// All hooks, in creation order, in one unpaged answer without a `Link` header (as recorded).
async fn list(State(sim): State<Arc<Sim>>) -> ApiResult {
    let hooks: Vec<Value> = sim.hooks.list().iter().map(|h| render(&sim, h)).collect();
    ok(Value::Array(hooks))
}

async fn read(State(sim): State<Arc<Sim>>, ApiPath(id): ApiPath<String>) -> ApiResult {
    let h = sim.hooks.get(&id).ok_or_else(|| not_found(&id))?;
    ok(render(&sim, &h))
}

async fn create(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    body: Bytes,
) -> ApiResult {
    let draft = model::parse(&json_body(&body)?)?;
    let now = sim.clock.now_ms();
    let id = sim.org.write().ids.next("who");
    let hook = EventHook {
        id: id.clone(),
        name: draft.name,
        description: draft.description,
        active: true,
        verified: false,
        created: now,
        created_by: ctx.actor.id.clone(),
        last_updated: now,
        events: draft.events,
        target: draft.target,
    };
    let out = render(&sim, &hook);
    let target = hook.entity();
    sim.hooks.write(|hooks| hooks.insert(id, hook));
    sim.log(
        &ctx,
        NewEvent::success("event_hook.created", "Event hook created", vec![target]),
    );
    ok(out)
}

async fn replace(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    if sim.hooks.get(&id).is_none() {
        return Err(not_found(&id));
    }
    let draft = model::parse(&body)?;
    let now = sim.clock.now_ms();
    let (out, target) = sim.hooks.write(|hooks| {
        let h = hooks.get_mut(&id).ok_or_else(|| not_found(&id))?;
        h.replace(draft, now);
        Ok::<_, ApiError>((render(&sim, h), h.entity()))
    })?;
    sim.hooks.sync(&sim, &id);
    sim.log(
        &ctx,
        NewEvent::success("event_hook.updated", "Event hook updated", vec![target]),
    );
    ok(out)
}

async fn delete(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let removed = sim.hooks.write(|hooks| {
        let h = hooks.get(&id).ok_or_else(|| not_found(&id))?;
        if h.active {
            return Err(ApiError::no_permission());
        }
        Ok(hooks.remove(&id))
    })?;
    sim.hooks.sync(&sim, &id);
    if let Some(h) = removed {
        sim.log(
            &ctx,
            NewEvent::success("event_hook.deleted", "Event hook deleted", vec![h.entity()]),
        );
    }
    no_content()
}

async fn activate(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    set_active(&sim, &ctx, &id, true)
}

async fn deactivate(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    set_active(&sim, &ctx, &id, false)
}

fn set_active(sim: &Arc<Sim>, ctx: &RequestCtx, id: &str, active: bool) -> ApiResult {
    let now = sim.clock.now_ms();
    let (out, target, changed) = sim.hooks.write(|hooks| {
        let others = EventHooks::deliverable_count(hooks, id);
        let h = hooks.get_mut(id).ok_or_else(|| not_found(id))?;
        let changed = h.active != active;
        if changed && active && h.verified && others >= MAX_ACTIVE_VERIFIED {
            return Err(limit_reached());
        }
        if changed {
            h.active = active;
            h.last_updated = now;
        }
        Ok::<_, ApiError>((render(sim, h), h.entity(), changed))
    })?;
    if changed {
        sim.hooks.sync(sim, id);
        let event = if active {
            NewEvent::success("event_hook.activated", "Event hook activated", vec![target])
        } else {
            NewEvent::success(
                "event_hook.deactivated",
                "Event hook deactivated",
                vec![target],
            )
        };
        sim.log(ctx, event);
    }
    ok(out)
}

/// The one-time verification: the simulator calls the hook's URI now (FACTS.md §6) and answers
/// once that call has succeeded or failed. `event_hook.verified` is written either way ("the
/// event is fired even when the verification is unsuccessful", Okta's event catalogue).
async fn verify(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let h = sim.hooks.get(&id).ok_or_else(|| not_found(&id))?;
    // Checked before calling out (no call for a hook that could not be verified anyway), and
    // again when the answer is in.
    let others = sim
        .hooks
        .read(|hooks| EventHooks::deliverable_count(hooks, &id));
    if h.active && !h.verified && others >= MAX_ACTIVE_VERIFIED {
        return Err(limit_reached());
    }
    let target = Outbound::of(&h).ok_or_else(ApiError::internal)?;
    let called = h.target.clone();
    let result = outbound::verify(&target, sim.hooks.delivery.timeout()).await;
    let now = sim.clock.now_ms();
    let entity = h.entity();
    match result {
        Ok(()) => {
            let out = sim.hooks.write(|hooks| {
                let others = EventHooks::deliverable_count(hooks, &id);
                let h = hooks.get_mut(&id).ok_or_else(|| not_found(&id))?;
                if h.active && !h.verified && others >= MAX_ACTIVE_VERIFIED {
                    return Err(limit_reached());
                }
                // Only the channel that was called is verified: a change in between unverified it
                // and needs its own verification.
                if h.target == called {
                    h.verified = true;
                    h.last_updated = now;
                }
                Ok(render(&sim, h))
            })?;
            sim.hooks.sync(&sim, &id);
            sim.log(
                &ctx,
                NewEvent::success("event_hook.verified", "Event hook verified", vec![entity]),
            );
            ok(out)
        }
        Err(reason) => {
            let mut event = NewEvent::success(
                "event_hook.verified",
                "Event hook verification failed",
                vec![entity],
            );
            event.result = "FAILURE";
            event.severity = Severity::Warn;
            event.reason = Some(reason);
            sim.log(&ctx, event);
            Err(ApiError::validation(
                "eventHook",
                format!(
                    "Unable to verify event hook. Hook {} execution failed",
                    h.name
                ),
            ))
        }
    }
}
