-- sip-interop.lua — Kamailio KEMI routing (cfgengine "lua") with SIP Interop Host embedded.
--
-- Every request (but CANCEL and retransmissions, which tm absorbs) and every reply of a transaction we
-- relayed goes through the host's plugin chain; its decision is carried out with Kamailio's own
-- primitives:
--   edits     -> $ru, KSR.hdr.remove / KSR.hdr.append, KSR.textops.set_body / KSR.textopsx.remove_body
--   relay     -> loose_route / record_route as any proxy, then t_relay to the Request-URI
--   forward   -> $ru/$du per target, append_branch for each further target, one t_relay (a fork)
--   reply     -> KSR.hdr.append_to_reply + KSR.sl.send_reply (statefully when a transaction exists)
--   drop      -> nothing is sent
-- Media is never handled in the worker: a media relay plugin drives its own process over a control
-- socket and only rewrites SDP here, like any other edit.
--
-- To add it to an existing KEMI Lua script, keep the three marked blocks: the require/configure lines,
-- the sip_interop.request call and apply_request, and the reply function armed with t_on_reply
-- (docs/EMBEDDING.md).

-- [1] Load and configure the host. Nothing starts here: Kamailio also runs this file in a probe before
-- it forks its workers; each worker starts its own host at its first message.
local lib_dir = os.getenv("SIP_INTEROP_LIB_DIR")
if lib_dir and lib_dir ~= "" then
    package.cpath = lib_dir .. "/lib?_lua.so;" .. package.cpath
end
local sip_interop = require "sip_interop"
-- Raises a Lua error naming the problem when the config file is broken (Kamailio then refuses to start);
-- run again by `kamcmd app_lua.reload`, it reloads this worker's host.
sip_interop.configure(os.getenv("SIP_INTEROP_CONFIG") or "/etc/sip-interop/host.toml")

-- The plugins' facts about a transaction travel with it (a reply may reach another worker).
local STATE = "$avp(sip_interop_state)"

local function pv(name)
    return KSR.pv.get(name) or ""
end

local function apply_edits(d)
    if d.ruri then
        KSR.pv.sets("$ru", d.ruri)
    end
    if d.remove then
        for _, name in ipairs(d.remove) do
            KSR.hdr.remove(name)
        end
    end
    if d.add then
        for _, line in ipairs(d.add) do
            KSR.hdr.append(line .. "\r\n")
        end
    end
    if d.body then
        if d.body == "" then
            KSR.textopsx.remove_body()
        else
            KSR.textops.set_body(d.body, d.content_type)
        end
    end
end

local function send_reply(d)
    if d.headers then
        for _, line in ipairs(d.headers) do
            KSR.hdr.append_to_reply(line .. "\r\n")
        end
    end
    if d.reply_body then
        KSR.textops.set_reply_body(d.reply_body, d.reply_content_type)
    end
    -- sl's send_reply answers through tm when the request has a transaction, statelessly otherwise.
    KSR.sl.send_reply(d.status, d.reason)
end

local function relay(state)
    if state and state ~= "" then
        KSR.pv.sets(STATE, state)
    end
    KSR.tm.t_on_reply("ksr_sip_interop_reply")
    if KSR.tm.t_relay() < 0 then
        KSR.sl.sl_reply_error()
    end
end

-- A target's Request-URI and, when it names one, where to send it ($du); its transport travels in the
-- URI or next hop.
local function set_target(t)
    KSR.pv.sets("$ru", t.uri)
    if t.next_hop then
        KSR.pv.sets("$du", t.next_hop)
    else
        KSR.pv.unset("$du")
    end
end

-- Forward to d.targets: the first on the request itself, each further one as a branch (append_branch
-- takes the current $ru and $du), then one t_relay starts them all in parallel. Targets carry delay_ms,
-- group and min_answer_ms; this script starts every branch at once (see docs/EMBEDDING.md: a staggered
-- fork runs in the standalone host).
local function forward(d)
    local targets = d.targets
    for i = 2, #targets do
        set_target(targets[i])
        KSR.corex.append_branch()
    end
    set_target(targets[1])
    relay(d.state)
end

-- [2] Requests.
function ksr_request_route()
    if KSR.maxfwd.process_maxfwd(70) < 0 then
        KSR.sl.send_reply(483, "Too Many Hops")
        return
    end
    -- CANCEL: tm matches it to its INVITE, answers 200 and cancels the branches.
    if KSR.is_CANCEL() then
        if KSR.tm.t_check_trans() > 0 then
            KSR.tm.t_relay()
        end
        return
    end
    -- Retransmissions of requests whose transaction exists are absorbed by tm.
    if not KSR.is_ACK() then
        if KSR.tmx.t_precheck_trans() > 0 then
            KSR.tm.t_check_trans()
            return
        end
        if KSR.tm.t_check_trans() == 0 then
            return
        end
    elseif KSR.tm.t_check_trans() == 0 then
        -- The ACK of a negative reply we relayed: tm acknowledged it hop by hop already.
        return
    end

    local d = sip_interop.request(KSR.pv.get("$mb"), pv("$si"), KSR.pv.get("$sp"), pv("$pr"),
        { local_ip = pv("$Ri"), local_port = KSR.pv.get("$Rp") })
    if d.why then
        KSR.log("notice", "sip_interop: " .. d.action .. ": " .. d.why .. "\n")
    end
    apply_edits(d)

    if d.action == "reply" then
        if not KSR.is_ACK() then
            send_reply(d)
        end
        return
    elseif d.action == "drop" then
        return
    end

    -- In-dialog requests follow their Route set; initial INVITEs keep us in the dialog.
    if KSR.siputils.has_totag() > 0 then
        KSR.rr.loose_route()
    elseif KSR.is_INVITE() then
        KSR.rr.record_route()
    end
    if d.action == "forward" then
        forward(d)
    elseif KSR.is_ACK() then
        -- An end-to-end ACK of a 2xx: statelessly, by its Route or Request-URI.
        KSR.forward()
    else
        relay(d.state)
    end
end

-- [3] Replies of the transactions relayed above (armed with t_on_reply, so the transaction's AVPs,
-- the plugins' facts among them, are at hand).
function ksr_sip_interop_reply()
    local d = sip_interop.reply(KSR.pv.get("$mb"), KSR.pv.get(STATE), pv("$si"), KSR.pv.get("$sp"),
        pv("$pr"))
    if d.why then
        KSR.log("notice", "sip_interop: reply " .. d.action .. ": " .. d.why .. "\n")
    end
    apply_edits(d)
    if d.action == "drop" then
        KSR.x.drop()
    end
end
