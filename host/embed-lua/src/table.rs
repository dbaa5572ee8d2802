//! Decisions as Lua tables. Only what is there is set (an absent field reads as nil), so the common
//! "relay, nothing edited" case builds a table of four fields.
//!
//! Request decision: `action` ("relay" | "forward" | "reply" | "drop"), `generation`, `state` (keep it
//! with the transaction, hand it to `reply`), and when present: `plugin` (who decided), `why` (why the
//! host itself decided), `ruri`, `remove` (header names), `add` (header lines "Name: value"), `body` and
//! `content_type` (`body == ""`: remove the body), `targets` ({uri, next_hop, transport, delay_ms, group,
//! min_answer_ms}), `status`, `reason`, `headers` (reply header lines), `reply_body`,
//! `reply_content_type`.
//! Response decision: `action` ("relay" | "drop"), `generation`, and `why`, `remove`, `add`, `body`,
//! `content_type` when present.

use mlua::{Lua, Result as LuaResult, Table};

use sip_interop_host::embed::{Action, Decision, MessageEdits, ResponseDecision};

use crate::worker::Status;

fn lines<'a>(lua: &Lua, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> LuaResult<Table> {
    let t = lua.create_table()?;
    for (i, (n, v)) in pairs.enumerate() {
        t.raw_set(i + 1, format!("{n}: {v}"))?;
    }
    Ok(t)
}

fn edits(lua: &Lua, t: &Table, e: &MessageEdits) -> LuaResult<()> {
    if let Some(ruri) = &e.request_uri {
        t.raw_set("ruri", ruri.as_str())?;
    }
    if !e.remove_headers.is_empty() {
        t.raw_set(
            "remove",
            lua.create_sequence_from(e.remove_headers.iter().map(String::as_str))?,
        )?;
    }
    if !e.add_headers.is_empty() {
        t.raw_set(
            "add",
            lines(
                lua,
                e.add_headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            )?,
        )?;
    }
    if let Some(b) = &e.body {
        t.raw_set("body", lua.create_string(&b.bytes)?)?;
        t.raw_set("content_type", b.content_type.as_str())?;
    }
    Ok(())
}

pub fn decision(lua: &Lua, d: &Decision) -> LuaResult<Table> {
    let t = lua.create_table()?;
    t.raw_set("action", d.action.name())?;
    t.raw_set("generation", d.generation)?;
    t.raw_set("state", d.transaction_state.as_str())?;
    if let Some(p) = &d.decided_by {
        t.raw_set("plugin", p.as_str())?;
    }
    if let Some(w) = &d.host_reason {
        t.raw_set("why", w.as_str())?;
    }
    edits(lua, &t, &d.edits)?;
    match &d.action {
        Action::Forward(targets) => {
            let list = lua.create_table()?;
            for (i, tg) in targets.iter().enumerate() {
                let x = lua.create_table()?;
                x.raw_set("uri", tg.uri.as_str())?;
                if let Some(nh) = &tg.next_hop {
                    x.raw_set("next_hop", nh.as_str())?;
                }
                x.raw_set("transport", tg.transport.as_str())?;
                x.raw_set("delay_ms", tg.delay.as_millis() as u64)?;
                x.raw_set("group", tg.fork_group)?;
                x.raw_set("min_answer_ms", tg.min_answer.as_millis() as u64)?;
                list.raw_set(i + 1, x)?;
            }
            t.raw_set("targets", list)?;
        }
        Action::Reply(r) => {
            t.raw_set("status", r.status)?;
            t.raw_set("reason", r.reason.as_str())?;
            if !r.headers.is_empty() {
                t.raw_set(
                    "headers",
                    lines(lua, r.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))?,
                )?;
            }
            if let Some((ct, body)) = &r.body {
                t.raw_set("reply_body", lua.create_string(body)?)?;
                t.raw_set("reply_content_type", ct.as_str())?;
            }
        }
        Action::Relay | Action::Drop => {}
    }
    Ok(t)
}

pub fn response_decision(lua: &Lua, d: &ResponseDecision) -> LuaResult<Table> {
    let t = lua.create_table()?;
    t.raw_set("action", if d.drop { "drop" } else { "relay" })?;
    t.raw_set("generation", d.generation)?;
    if let Some(w) = &d.host_reason {
        t.raw_set("why", w.as_str())?;
    }
    edits(lua, &t, &d.edits)?;
    Ok(t)
}

pub fn status(lua: &Lua, s: &Status) -> LuaResult<Table> {
    let t = lua.create_table()?;
    t.raw_set("pid", s.pid)?;
    if let Some(c) = &s.config {
        t.raw_set("config", c.as_str())?;
    }
    t.raw_set("started", s.started)?;
    t.raw_set("generation", s.generation)?;
    t.raw_set("requests", s.requests)?;
    t.raw_set("responses", s.responses)?;
    t.raw_set("reloads_ok", s.reloads_ok)?;
    t.raw_set("reloads_failed", s.reloads_failed)?;
    if let Some(f) = &s.failed {
        t.raw_set("failed", f.as_str())?;
    }
    Ok(t)
}
