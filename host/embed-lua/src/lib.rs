//! `require "sip_interop"`: SIP Interop Host as a Lua 5.1 C module, for Kamailio's `app_lua` (KEMI,
//! `cfgengine "lua"`) and OpenSIPS's `lua` module.
//!
//! ```lua
//! local sip_interop = require "sip_interop"
//! sip_interop.configure("/etc/sip-interop/host.toml")      -- checks the file; loads nothing yet
//! local d = sip_interop.request(KSR.pv.get("$mb"), KSR.pv.get("$si"), KSR.pv.get("$sp"), KSR.pv.get("$pr"))
//! -- d.action: "relay" | "forward" | "reply" | "drop"; d.ruri, d.remove, d.add, d.body, d.targets, ...
//! ```
//!
//! Fork safety: `require` and `configure` run wherever the script is loaded (Kamailio also loads it in
//! a probe before forking) and start nothing. The host (plugins, threads) is created by the first
//! `request`/`reply` in each worker process; a host inherited from another process is never used.
//! See docs/EMBEDDING.md.

mod table;
mod worker;

use mlua::{IntoLuaMulti, Lua, Result as LuaResult, Table, Value};

use sip_interop_host::embed::{parse_ip, Arrival};

fn arrival<'a>(
    bytes: &'a [u8],
    ip: &str,
    port: u16,
    proto: &str,
    opts: Option<&Table>,
) -> LuaResult<Arrival<'a>> {
    let ip = parse_ip(ip)
        .ok_or_else(|| mlua::Error::runtime(format!("sip_interop: bad source address '{ip}'")))?;
    let transport = sip_interop_abi::sdk::Transport::parse(proto)
        .ok_or_else(|| mlua::Error::runtime(format!("sip_interop: unknown transport '{proto}'")))?;
    let mut a = Arrival::new(bytes, std::net::SocketAddr::new(ip, port), transport);
    if let Some(o) = opts {
        if let Some(names) = o.get::<Option<Table>>("tls_peer_names")? {
            a.tls_peer_names = names
                .sequence_values::<String>()
                .collect::<LuaResult<_>>()?;
        }
        let local_ip: Option<String> = o.get("local_ip")?;
        let local_port: Option<u16> = o.get("local_port")?;
        if let Some(lip) = local_ip {
            let local = parse_ip(&lip).ok_or_else(|| {
                mlua::Error::runtime(format!("sip_interop: bad local address '{lip}'"))
            })?;
            a.local = std::net::SocketAddr::new(local, local_port.unwrap_or(0));
        }
    }
    Ok(a)
}

/// The module table.
#[mlua::lua_module]
fn sip_interop(lua: &Lua) -> LuaResult<Table> {
    let m = lua.create_table()?;
    m.set("version", env!("CARGO_PKG_VERSION"))?;

    // configure(path): check the file now (a Lua error names the problem, so Kamailio refuses to start
    // with a broken config); the host itself starts in each worker at its first message. Called again
    // in a worker that runs a host (Kamailio re-runs the script on `kamcmd app_lua.reload`): reload.
    m.set(
        "configure",
        lua.create_function(|_, path: String| {
            worker::configure(&path).map_err(|e| {
                // app_lua prints a Lua error only when it is a string; ours is a userdata there.
                eprintln!("{e}");
                mlua::Error::runtime(e)
            })
        })?,
    )?;

    // request(message, source_ip, source_port, transport [, {tls_peer_names=, local_ip=, local_port=}])
    m.set(
        "request",
        lua.create_function(
            |lua,
             (msg, ip, port, proto, opts): (
                mlua::String,
                String,
                u16,
                String,
                Option<Table>,
            )| {
                let bytes = msg.as_bytes();
                let a = arrival(&bytes, &ip, port, &proto, opts.as_ref())?;
                let d = worker::request(&a);
                table::decision(lua, &d)
            },
        )?,
    )?;

    // reply(message, transaction_state, source_ip, source_port, transport [, opts])
    m.set(
        "reply",
        lua.create_function(
            |lua,
             (msg, state, ip, port, proto, opts): (
                mlua::String,
                Option<String>,
                String,
                u16,
                String,
                Option<Table>,
            )| {
                let bytes = msg.as_bytes();
                let a = arrival(&bytes, &ip, port, &proto, opts.as_ref())?;
                let d = worker::response(&a, state.as_deref().unwrap_or(""));
                table::response_decision(lua, &d)
            },
        )?,
    )?;

    // reload(): reload config and plugins in this worker now. Returns the generation, or nil and the
    // one-line reason (the running chain stays).
    m.set(
        "reload",
        lua.create_function(|lua, ()| match worker::reload() {
            Ok(g) => (Value::Integer(g as i64), Value::Nil).into_lua_multi(lua),
            Err(e) => (Value::Nil, e).into_lua_multi(lua),
        })?,
    )?;

    // status(): {pid=, config=, started=, generation=, requests=, responses=, reloads_ok=, reloads_failed=}
    m.set(
        "status",
        lua.create_function(|lua, ()| table::status(lua, &worker::status()))?,
    )?;
    Ok(m)
}
