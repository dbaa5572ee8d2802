//! The plugin: decides which side each message comes from and goes to, and applies the rules of
//! that direction — requests on the way in, their answers on the way back — explaining every edit.

use std::borrow::Cow;

use sip_interop_abi::ffi::ScratchValue;
use sip_interop_abi::prelude::*;
use sip_interop_abi::sdk::{host, ConfigError, PEER_DIALECT_KEY};
use sip_interop_abi::sip::{kind, Message, NameAddr};

use crate::body::{self, SdpChoice};
use crate::config::{Config, Peer, Settings, Side};
use crate::dialogs::Dialogs;
use crate::headers::{self, HeaderChange};
use crate::identity;
use crate::sdp::{self, MicrosoftOptions, SdpReject, StandardOptions};
use crate::{dialect, im};

/// Scratchpad key: the dialect of the side the request goes to (`ms` or `standard`).
pub const FAR_DIALECT_KEY: &str = "normaliser.far_dialect";
/// Scratchpad key: which way this transaction is translated (`ms-to-standard`, `standard-to-ms`,
/// `none`).
pub const DIRECTION_KEY: &str = "normaliser.direction";
/// Scratchpad key: `true` for a Lync IM-session INVITE (for the IM/presence splitter).
pub const IM_SESSION_KEY: &str = "normaliser.im_session";
/// Scratchpad key: the first message of an IM-session INVITE, decoded from `ms-text-format`.
pub const IM_FIRST_MESSAGE_KEY: &str = "normaliser.im_first_message";
/// Scratchpad key: its content type.
pub const IM_FIRST_MESSAGE_TYPE_KEY: &str = "normaliser.im_first_message_type";
/// Scratchpad keys: From and To as the sender wrote them, put back on the answers it receives.
const FROM_KEY: &str = "normaliser.from";
const TO_KEY: &str = "normaliser.to";
/// Scratchpad key: the SRTP policy / ICE of the peers of this transaction.
const MS_PEER_KEY: &str = "normaliser.ms_peer";
const STANDARD_ICE_KEY: &str = "normaliser.standard_ice";

/// The MS-SIP normaliser.
pub struct Normaliser {
    s: Settings,
    dialogs: Dialogs,
}

impl Normaliser {
    /// Build from the config table.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        let s = Settings::from_config(config)?;
        let dialogs = Dialogs::new(s.max_dialogs, s.dialog_idle);
        Ok(Normaliser { s, dialogs })
    }

    /// Build from TOML text (tests, benchmarks).
    pub fn from_toml(table: &str) -> Result<Self, ConfigError> {
        Self::new(sip_interop_abi::sdk::parse_config(table)?)
    }

    /// The dialog table (tests).
    pub fn dialogs(&self) -> &Dialogs {
        &self.dialogs
    }
}

/// What `explain` shows, collected only while explaining.
struct Notes {
    on: bool,
}

impl Notes {
    fn new() -> Self {
        Notes {
            on: host::explaining(),
        }
    }

    fn add(&self, line: impl FnOnce() -> String) {
        if self.on {
            host::explain(&line());
        }
    }
}

macro_rules! apply_changes {
    ($view:expr, $changes:expr, $notes:expr) => {
        for c in $changes {
            match c {
                HeaderChange::Remove { index, why } => {
                    $view.remove_header_at(index);
                    $notes.add(|| why);
                }
                HeaderChange::Replace { index, value, why } => {
                    $view.replace_header_at(index, &value);
                    $notes.add(|| why);
                }
                HeaderChange::Add { name, value, why } => {
                    $view.add_header(name, &value);
                    if !why.is_empty() {
                        $notes.add(|| why);
                    }
                }
            }
        }
    };
}

/// Put a rewritten SDP on the message (when it changed, or came out of multipart) and explain each
/// change under `rule`; gives the new SDP back.
macro_rules! apply_rewrite {
    ($view:expr, $r:expr, $forced:expr, $rule:literal, $notes:expr) => {{
        let r = $r;
        if $forced || !r.changes.is_empty() {
            $view.replace_body("application/sdp", &r.sdp);
        }
        for c in &r.changes {
            $notes.add(|| format!(concat!($rule, ": {}"), c));
        }
        r.sdp
    }};
}

/// The facts of a message the rules need.
struct Facts<'a> {
    method: &'a str,
    call_id: &'a str,
    cseq: u32,
    in_dialog: bool,
}

fn facts<'a>(m: &Message<'a>) -> Facts<'a> {
    let cseq = m.cseq().and_then(|c| c.ok());
    Facts {
        method: cseq.as_ref().map(|c| c.method.as_str()).unwrap_or(""),
        call_id: m.call_id().unwrap_or(""),
        cseq: cseq.map(|c| c.seq).unwrap_or(0),
        in_dialog: m
            .to()
            .and_then(|t| t.ok())
            .is_some_and(|t| t.tag().is_some()),
    }
}

/// The first line of kind `k`: its index and its value, unfolded (what is written back must be one
/// line).
fn header_index<'a>(m: &Message<'a>, k: u16) -> Option<(usize, Cow<'a, str>)> {
    m.headers()
        .find(|h| h.kind == k)
        .map(|h| (h.index, headers::unfold(h.value)))
}

/// The SDP of a body, picked out of multipart if need be: `(sdp, came out of multipart)`, or why the
/// body could not be read.
type Picked<'a> = Result<Option<(&'a [u8], bool)>, String>;

/// Pick the SDP of a body (once per message).
fn sdp_of<'a>(m: &Message<'a>, notes: &Notes) -> Picked<'a> {
    let body = m.body();
    let Some(ct) = m.content_type() else {
        return Ok(None);
    };
    if body.is_empty() {
        return Ok(None);
    }
    match body::pick_sdp(ct, body) {
        Ok(SdpChoice::Single) => Ok(Some((body, false))),
        Ok(SdpChoice::Extracted { sdp, dropped_parts }) => {
            notes.add(|| format!("body.single-sdp: kept the RFC 5245 SDP of the multipart body, dropped {dropped_parts} other part(s)"));
            Ok(Some((sdp, true)))
        }
        Ok(SdpChoice::NotSdp) => Ok(None),
        Err(body::BodyError::NoSdp) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// A request's SDP that a rewrite refused: a 488 naming why when nothing acceptable is left, else the
/// SDP goes on as it was (as the body alone when it came out of multipart: `body_replaced`).
fn sdp_refused(
    req: &mut Request<'_>,
    e: SdpReject,
    sdp: &[u8],
    body_replaced: bool,
    notes: &Notes,
) -> Option<Verdict> {
    match e {
        SdpReject::NotAcceptable(why) => {
            host::counter_add("rejected_488", 1);
            Some(reject(488, "Not Acceptable Here", &why))
        }
        SdpReject::Malformed(why) => {
            if body_replaced {
                req.replace_body("application/sdp", sdp);
            }
            notes.add(|| format!("sdp: left as is ({why})"));
            None
        }
    }
}

fn reject(status: u16, reason: &str, why: &str) -> Verdict {
    // `why` may quote the message (a multipart boundary, an SDP line) and goes into quoted strings of
    // header lines the host writes as they are: no quote, backslash or control character (a CR
    // there would end the line).
    let text: String = why
        .chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    Verdict::Respond(
        Reply::new(status, reason)
            .header("Warning", &format!("399 sip-interop \"{text}\""))
            .header("Reason", &format!("SIP;cause={status};text=\"{text}\"")),
    )
}

fn uri_host(uri: &str) -> Option<(String, Option<u16>)> {
    let u = sip_interop_abi::sip::Uri::parse(uri).ok()?;
    let s = u.as_sip()?;
    Some((s.host_text.trim_matches(['[', ']']).to_string(), s.port))
}

impl Normaliser {
    fn peer_by_host(&self, host: &str, port: Option<u16>) -> Option<&Peer> {
        let ip = host.parse().ok()?;
        self.s.peer_at(ip, port)
    }

    /// The side that sent a message, and why.
    fn source_side(&self, m: &Message<'_>, ctx: &Context<'_>) -> (Side, Option<&Peer>, String) {
        let src = ctx.source();
        if let Some(p) = self.s.peer_at(src.ip(), Some(src.port())) {
            return (
                p.side,
                Some(p),
                format!(
                    "source {src} is peer {} (dialect {})",
                    p.name,
                    p.side.as_str()
                ),
            );
        }
        if let Some(pool) = ctx.trusted_pool() {
            if self.s.ms_trusted_pools.iter().any(|p| p == pool) {
                return (
                    Side::Microsoft,
                    None,
                    format!("TLS peer is in trusted pool {pool}, a Microsoft pool"),
                );
            }
        }
        if self.s.detect {
            if let Some(why) = dialect::microsoft_sign(m) {
                return (Side::Microsoft, None, why);
            }
        }
        (Side::Standard, None, "no sign of MS-SIP".into())
    }

    /// The side a request goes to, and why.
    fn far_side(
        &self,
        m: &Message<'_>,
        f: &Facts<'_>,
        source: Side,
    ) -> (Side, Option<&Peer>, String) {
        let route = m.routes().next().and_then(|r| r.ok()).map(|r| r.uri_str);
        if let Some((host, port)) = route.and_then(uri_host) {
            if let Some(p) = self.peer_by_host(&host, port) {
                return (
                    p.side,
                    Some(p),
                    format!("the first Route is peer {}", p.name),
                );
            }
        }
        let ruri = m.request_uri_str().unwrap_or("");
        let target = uri_host(ruri);
        if let Some((host, port)) = &target {
            if let Some(p) = self.peer_by_host(host, *port) {
                return (
                    p.side,
                    Some(p),
                    format!("the Request-URI is peer {}", p.name),
                );
            }
        }
        if f.in_dialog && self.dialogs.get(f.call_id).is_some() {
            let other = match source {
                Side::Microsoft => Side::Standard,
                Side::Standard => Side::Microsoft,
            };
            return (
                other,
                None,
                "in a call that crosses between Microsoft and standards peers".into(),
            );
        }
        if let Some((host, _)) = &target {
            if self.s.is_ms_domain(host) {
                let phone = identity::has_user_phone(ruri)
                    || identity::split_user(ruri).is_some_and(|(_, u, _)| identity::is_number(u));
                if source == Side::Microsoft && phone {
                    return (
                        Side::Standard,
                        None,
                        format!(
                            "a phone number in {host} from Microsoft goes to the standards side"
                        ),
                    );
                }
                return (
                    Side::Microsoft,
                    None,
                    format!("{host} is a Microsoft domain"),
                );
            }
        }
        (
            Side::Standard,
            None,
            "not a Microsoft peer or domain".into(),
        )
    }
}

impl Plugin for Normaliser {
    const DESCRIPTION: &'static str =
        "MS-SIP normaliser: Lync / Skype for Business <-> standards-based SIP in both directions.";
    const EXAMPLE_CONFIG: &'static str = EXAMPLE_CONFIG;
    const CONFIG_SCHEMA: &'static str = CONFIG_SCHEMA;
    /// The dialog table (epids, last SDP to Microsoft) is handed to the successor on a reload.
    const HOOKS: u32 = sip_interop_abi::ffi::hooks::REQUEST
        | sip_interop_abi::ffi::hooks::RESPONSE
        | sip_interop_abi::ffi::hooks::STATE;

    fn on_request(&self, req: &mut Request<'_>, ctx: &mut Context<'_>) -> Verdict {
        let notes = Notes::new();
        let m = req.message().clone();
        let f = facts(&m);
        let (source, source_peer, why) = self.source_side(&m, ctx);
        ctx.set_text(PEER_DIALECT_KEY, source.as_str());
        notes.add(|| format!("dialect: from {} ({why})", source.as_str()));
        let (far, far_peer, why_far) = self.far_side(&m, &f, source);
        ctx.set_text(FAR_DIALECT_KEY, far.as_str());
        notes.add(|| format!("dialect: to {} ({why_far})", far.as_str()));
        let crossing = source != far;
        let im_candidate = source == Side::Microsoft && f.method == "INVITE";
        // The body is read once, for the IM check and the translation alike; a message that stays
        // in its dialect is not read at all.
        let picked = match (crossing, im_candidate) {
            (true, _) => sdp_of(&m, &notes),
            (false, true) => sdp_of(&m, &Notes { on: false }),
            (false, false) => Ok(None),
        };
        if im_candidate {
            if let Ok(Some((sdp, _))) = picked {
                if sdp::is_im_session(sdp) {
                    ctx.set(IM_SESSION_KEY, ScratchValue::Bool(true));
                    notes.add(|| {
                        "im.session: an IM-session INVITE (m=message), marked for the splitter"
                            .into()
                    });
                    if let Some((ct, text)) = im::first_message(&m) {
                        ctx.set_text(IM_FIRST_MESSAGE_TYPE_KEY, &ct);
                        ctx.set_text(IM_FIRST_MESSAGE_KEY, &String::from_utf8_lossy(&text));
                        notes.add(|| {
                            format!(
                                "im.first-message: {} bytes of {ct} from ms-text-format",
                                text.len()
                            )
                        });
                    }
                }
            }
        }
        let direction = match (source, far) {
            (Side::Microsoft, Side::Standard) => "ms-to-standard",
            (Side::Standard, Side::Microsoft) => "standard-to-ms",
            _ => "none",
        };
        ctx.set_text(DIRECTION_KEY, direction);
        // Which of the two peers is the Microsoft one and which the standards one.
        let (ms_peer, standard_peer) = match source {
            Side::Microsoft => (source_peer, far_peer),
            Side::Standard => (far_peer, source_peer),
        };
        if crossing {
            let ice = standard_peer.map_or(self.s.standard_ice, |p| p.ice);
            ctx.set(STANDARD_ICE_KEY, ScratchValue::Bool(ice));
            if let Some(p) = ms_peer {
                ctx.set_text(MS_PEER_KEY, &p.name);
            }
        }
        let verdict = match (source, far) {
            (Side::Microsoft, Side::Standard) => {
                host::counter_add("to_standard", 1);
                let ice = standard_peer.map_or(self.s.standard_ice, |p| p.ice);
                self.request_to_standard(req, ctx, &f, picked, ice, &notes)
            }
            (Side::Standard, Side::Microsoft) => {
                host::counter_add("to_microsoft", 1);
                self.request_to_microsoft(req, ctx, &f, picked, ms_peer, &notes)
            }
            _ => {
                notes.add(|| "nothing to translate: both sides speak the same dialect".into());
                Verdict::Continue
            }
        };
        if let Verdict::Respond(r) = &verdict {
            host::counter_add("answered_locally", 1);
            notes.add(|| format!("answered {} {} here", r.status, r.reason));
        }
        verdict
    }

    fn on_response(&self, resp: &mut Response<'_>, ctx: &mut Context<'_>) -> ResponseVerdict {
        let notes = Notes::new();
        match ctx.get_text(DIRECTION_KEY) {
            Some("ms-to-standard") => self.response_to_microsoft(resp, ctx, &notes),
            Some("standard-to-ms") => self.response_to_standard(resp, ctx, &notes),
            _ => return ResponseVerdict::Continue,
        }
        // The call ends when its BYE is answered (a challenged BYE sent again still finds it).
        let m = resp.message();
        if m.status().is_some_and(|s| (200..300).contains(&s))
            && m.cseq()
                .and_then(|c| c.ok())
                .is_some_and(|c| c.method.as_str() == "BYE")
        {
            if let Some(id) = m.call_id() {
                self.dialogs.end(id);
            }
        }
        ResponseVerdict::Continue
    }

    fn export_state(&self) -> Vec<u8> {
        self.dialogs.export()
    }

    fn import_state(&self, state: &[u8]) -> Result<(), String> {
        let n = self.dialogs.import(state)?;
        tracing::info!(
            dialogs = n,
            "took over the dialogs of the previous instance"
        );
        Ok(())
    }
}

impl Normaliser {
    /// Microsoft → standards side, a request.
    fn request_to_standard(
        &self,
        req: &mut Request<'_>,
        ctx: &mut Context<'_>,
        f: &Facts<'_>,
        picked: Picked<'_>,
        ice: bool,
        notes: &Notes,
    ) -> Verdict {
        let m = req.message().clone();
        if f.method == "ACK" {
            if let Some(d) = self.dialogs.get(f.call_id) {
                if d.local_answer_cseq == Some(f.cseq) {
                    notes.add(|| {
                        "ice.reinvite: the ACK of the re-INVITE answered here ends here".into()
                    });
                    return Verdict::Drop;
                }
            }
        }
        // Body and SDP.
        match picked {
            Err(e) => {
                // An ACK is never answered (RFC 3261 §17.2.1): it passes as it is.
                if matches!(f.method, "INVITE" | "UPDATE" | "PRACK") {
                    return reject(
                        400,
                        "Bad Request",
                        &format!("unreadable multipart body: {e}"),
                    );
                }
                notes.add(|| format!("body: left as is ({e})"));
            }
            Ok(Some((sdp_bytes, extracted))) => {
                if f.method == "INVITE"
                    && f.in_dialog
                    && !ice
                    && self.s.answer_ice_reinvite
                    && sdp::is_ice_update(sdp_bytes)
                {
                    if let Some(d) = self.dialogs.get(f.call_id) {
                        if let Some(answer) = d.ms_facing_sdp {
                            self.dialogs
                                .update(f.call_id, |d| d.local_answer_cseq = Some(f.cseq));
                            notes.add(|| "ice.reinvite: Lync's re-INVITE after ICE checks is answered here with the last answer (the standards side has no ICE)".into());
                            host::counter_add("ice_reinvite_answered", 1);
                            let mut reply = Reply::new(200, "OK");
                            if let Some(c) = d.standard_contact {
                                reply = reply.header("Contact", &c);
                            }
                            return Verdict::Respond(reply.body("application/sdp", &answer));
                        }
                    }
                    notes.add(|| {
                        "ice.reinvite: no earlier answer known for this call: forwarded".into()
                    });
                }
                match sdp::to_standard(sdp_bytes, &StandardOptions { target_ice: ice }) {
                    Ok(r) => {
                        apply_rewrite!(req, r, extracted, "sdp.standard", notes);
                    }
                    Err(e) => {
                        if let Some(refusal) = sdp_refused(req, e, sdp_bytes, extracted, notes) {
                            return refusal;
                        }
                    }
                }
            }
            Ok(None) => {}
        }
        // Headers, option tags, Allow.
        apply_changes!(req, headers::to_standard(&m, false), notes);
        // epid and numbers in From / To; the originals go back on the answers.
        let mut ms_epid = None;
        for (k, key, name) in [(kind::FROM, FROM_KEY, "From"), (kind::TO, TO_KEY, "To")] {
            let Some((i, value)) = header_index(&m, k) else {
                continue;
            };
            ctx.set_text(key, &value);
            let mut v = value.to_string();
            if let Some((out, epid)) = identity::take_header_param(&v, "epid") {
                notes.add(|| format!("epid.strip: removed epid={epid} from {name}"));
                v = out;
                if k == kind::FROM {
                    ms_epid = Some(epid);
                }
            }
            if let Some(out) =
                identity::rewrite_uri_in(&v, |u| identity::uri_to_standard(u, &self.s.numbers))
            {
                notes.add(|| {
                    format!("numbers.standard: {name} number in the standards side's format")
                });
                v = out;
            }
            if v != value {
                req.replace_header_at(i, &v);
            }
        }
        if let Some(ruri) = m.request_uri_str() {
            if let Some(new) = identity::uri_to_standard(ruri, &self.s.numbers) {
                notes.add(|| format!("numbers.standard: Request-URI {ruri} → {new}"));
                req.set_request_uri(&new);
            }
        }
        self.pai_to_standard(req, &m, notes);
        if let Some(epid) = ms_epid.filter(|_| creates_dialog(f.method) || f.in_dialog) {
            if !self.dialogs.update(f.call_id, |d| d.ms_epid = Some(epid)) {
                host::counter_add("dialogs_full", 1);
            }
        }
        Verdict::Continue
    }

    /// P-Asserted-Identity towards the standards side: `tel:` as a SIP phone URI, numbers formatted.
    fn pai_to_standard(&self, req: &mut Request<'_>, m: &Message<'_>, notes: &Notes) {
        let host = m
            .from()
            .and_then(|f| f.ok())
            .and_then(|f| uri_host(f.uri_str))
            .map(|(h, _)| h)
            .unwrap_or_else(|| "invalid".into());
        for h in m.headers().filter(|h| h.kind == kind::P_ASSERTED_IDENTITY) {
            let mut changed = false;
            let value = headers::unfold(h.value);
            let values: Vec<String> = sip_interop_abi::sip::tokens::split_commas(&value)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    let new = identity::rewrite_uri_in(v, |u| {
                        if u.len() > 4 && u.as_bytes()[..4].eq_ignore_ascii_case(b"tel:") {
                            identity::tel_to_sip(u, &host, &self.s.numbers)
                        } else {
                            identity::uri_to_standard(u, &self.s.numbers)
                        }
                    });
                    changed |= new.is_some();
                    new.unwrap_or_else(|| v.to_string())
                })
                .collect();
            if changed {
                notes.add(|| {
                    format!(
                        "identity.standard: P-Asserted-Identity → {}",
                        values.join(", ")
                    )
                });
                req.replace_header_at(h.index, &values.join(", "));
            }
        }
    }

    /// Standards side → Microsoft, a request.
    fn request_to_microsoft(
        &self,
        req: &mut Request<'_>,
        ctx: &mut Context<'_>,
        f: &Facts<'_>,
        picked: Picked<'_>,
        ms_peer: Option<&Peer>,
        notes: &Notes,
    ) -> Verdict {
        let m = req.message().clone();
        let encryption = ms_peer.map_or(self.s.ms_encryption, |p| p.encryption);
        let dialog = if f.in_dialog {
            self.dialogs.get(f.call_id)
        } else {
            None
        };
        if f.method == "ACK"
            && dialog
                .as_ref()
                .is_some_and(|d| d.default_offer_cseq == Some(f.cseq))
            && !m.body().is_empty()
        {
            req.remove_body();
            notes.add(|| "offer.default: the ACK's SDP answered our default offer; Microsoft already has its answer: removed".into());
        }
        let initial = f.method == "INVITE" && !f.in_dialog;
        let mut default_offer_used = false;
        let picked = match picked {
            Err(e) => {
                if matches!(f.method, "INVITE" | "UPDATE" | "PRACK") {
                    return reject(
                        400,
                        "Bad Request",
                        &format!("unreadable multipart body: {e}"),
                    );
                }
                None
            }
            Ok(Some((sdp, extracted))) => Some((sdp, extracted)),
            Ok(None) if initial => match &self.s.default_offer {
                Some(offer) => {
                    default_offer_used = true;
                    notes.add(|| "offer.default: an INVITE without SDP gets the configured default offer (Microsoft needs an offer)".into());
                    Some((offer.as_slice(), true))
                }
                None => {
                    host::counter_add("rejected_488", 1);
                    return reject(
                        488,
                        "Not Acceptable Here",
                        "an INVITE without SDP cannot go to Microsoft: set [microsoft] default_offer in the ms-sip-normaliser config",
                    );
                }
            },
            Ok(None) => None,
        };
        let mut facing = None;
        if let Some((sdp_bytes, changed)) = picked {
            match sdp::to_microsoft(
                sdp_bytes,
                &MicrosoftOptions {
                    encryption,
                    initial_offer: initial,
                },
            ) {
                Ok(r) => {
                    facing = Some(apply_rewrite!(req, r, changed, "sdp.microsoft", notes));
                }
                Err(e) => {
                    if let Some(refusal) = sdp_refused(req, e, sdp_bytes, changed, notes) {
                        return refusal;
                    }
                }
            }
        }
        // From gets an epid; To gets the Microsoft party's epid back in a dialog; numbers as +E.164.
        if let Some((i, from)) = header_index(&m, kind::FROM) {
            ctx.set_text(FROM_KEY, &from);
            let mut v = from.to_string();
            if let Some(out) =
                identity::rewrite_uri_in(&v, |u| identity::uri_to_microsoft(u, &self.s.numbers))
            {
                notes.add(|| "numbers.microsoft: From number as +E.164;user=phone".into());
                v = out;
            }
            if NameAddr::parse(&v)
                .ok()
                .and_then(|n| n.param("epid"))
                .is_none()
            {
                let aor = NameAddr::parse(&v)
                    .map(|n| aor_of(n.uri_str))
                    .unwrap_or_default();
                let epid = identity::epid_for(&self.s.epid_seed, &aor);
                notes.add(|| format!("epid.add: From gets epid={epid} (stable for {aor})"));
                v = identity::add_header_param(&v, "epid", &epid);
            }
            if v != from {
                req.replace_header_at(i, &v);
            }
        }
        if let Some((i, to)) = header_index(&m, kind::TO) {
            ctx.set_text(TO_KEY, &to);
            let mut v = to.to_string();
            if let Some(out) =
                identity::rewrite_uri_in(&v, |u| identity::uri_to_microsoft(u, &self.s.numbers))
            {
                notes.add(|| "numbers.microsoft: To number as +E.164;user=phone".into());
                v = out;
            }
            if let Some(epid) = dialog.as_ref().and_then(|d| d.ms_epid.clone()) {
                if NameAddr::parse(&v)
                    .ok()
                    .and_then(|n| n.param("epid"))
                    .is_none()
                {
                    notes.add(|| {
                        format!("epid.restore: To gets the Microsoft party's epid={epid} back")
                    });
                    v = identity::add_header_param(&v, "epid", &epid);
                }
            }
            if v != to {
                req.replace_header_at(i, &v);
            }
        }
        if let Some(ruri) = m.request_uri_str() {
            if let Some(new) = identity::uri_to_microsoft(ruri, &self.s.numbers) {
                notes.add(|| format!("numbers.microsoft: Request-URI {ruri} → {new}"));
                req.set_request_uri(&new);
            }
        }
        for h in m.headers().filter(|h| h.kind == kind::P_ASSERTED_IDENTITY) {
            let mut changed = false;
            let value = headers::unfold(h.value);
            let values: Vec<String> = sip_interop_abi::sip::tokens::split_commas(&value)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    let new = identity::rewrite_uri_in(v, |u| {
                        identity::uri_to_microsoft(u, &self.s.numbers)
                    });
                    changed |= new.is_some();
                    new.unwrap_or_else(|| v.to_string())
                })
                .collect();
            if changed {
                let new = values.join(", ");
                notes.add(|| format!("numbers.microsoft: P-Asserted-Identity → {new}"));
                req.replace_header_at(h.index, &new);
            }
        }
        if f.method == "INVITE" {
            let contact = if f.in_dialog {
                None
            } else {
                m.contacts()
                    .next()
                    .and_then(|c| c.ok())
                    .map(|c| format!("<{}>", c.uri_str))
            };
            let stored = self.dialogs.update(f.call_id, |d| {
                if let Some(sdp) = facing {
                    d.ms_facing_sdp = Some(sdp);
                }
                if let Some(c) = contact {
                    d.standard_contact = Some(c);
                }
                if default_offer_used {
                    d.default_offer_cseq = Some(f.cseq);
                }
            });
            if !stored {
                host::counter_add("dialogs_full", 1);
            }
        }
        Verdict::Continue
    }

    /// An answer from the standards side going back to Microsoft.
    fn response_to_microsoft(&self, resp: &mut Response<'_>, ctx: &mut Context<'_>, notes: &Notes) {
        let m = resp.message().clone();
        let f = facts(&m);
        let status = m.status().unwrap_or(0);
        self.restore_from_to(resp, ctx, &m, notes);
        let encryption = ctx
            .get_text(MS_PEER_KEY)
            .and_then(|name| self.s.peers.iter().find(|p| p.name == name))
            .map_or(self.s.ms_encryption, |p| p.encryption);
        let mut facing = None;
        if let Ok(Some((sdp_bytes, extracted))) = sdp_of(&m, notes) {
            match sdp::to_microsoft(
                sdp_bytes,
                &MicrosoftOptions {
                    encryption,
                    initial_offer: false,
                },
            ) {
                Ok(r) => {
                    facing = Some(apply_rewrite!(resp, r, extracted, "sdp.microsoft", notes));
                }
                Err(SdpReject::NotAcceptable(why) | SdpReject::Malformed(why)) => {
                    host::counter_add("answer_not_translated", 1);
                    tracing::warn!(call_id = f.call_id, "answer to Microsoft left as is: {why}");
                    notes.add(|| format!("sdp: answer left as is ({why})"));
                }
            }
        }
        if f.method == "INVITE" && (200..300).contains(&status) {
            let contact = m
                .contacts()
                .next()
                .and_then(|c| c.ok())
                .map(|c| format!("<{}>", c.uri_str));
            self.dialogs.update(f.call_id, |d| {
                if facing.is_some() {
                    d.ms_facing_sdp = facing;
                }
                if contact.is_some() {
                    d.standard_contact = contact;
                }
            });
        }
    }

    /// An answer from Microsoft going back to the standards side.
    fn response_to_standard(&self, resp: &mut Response<'_>, ctx: &mut Context<'_>, notes: &Notes) {
        let m = resp.message().clone();
        let f = facts(&m);
        let status = m.status().unwrap_or(0);
        if status == 430 {
            resp.set_status(481, "Call/Transaction Does Not Exist");
            notes.add(|| {
                "errors.flow-failed: 430 Flow Failed (RFC 5626, Microsoft edge) → 481".into()
            });
        }
        if status >= 300 {
            apply_changes!(resp, headers::diagnostics_to_standard(&m, status), notes);
        }
        let invite_answer = f.method == "INVITE" && status < 300;
        apply_changes!(resp, headers::to_standard(&m, invite_answer), notes);
        if let Some(epid) = m
            .to()
            .and_then(|t| t.ok())
            .and_then(|t| t.param("epid").flatten().map(str::to_string))
            .filter(|_| creates_dialog(f.method) && (200..300).contains(&status))
        {
            self.dialogs
                .update(f.call_id, |d| d.ms_epid = Some(epid.clone()));
            notes.add(|| {
                format!("epid.strip: the Microsoft party's epid={epid} kept for the dialog")
            });
        }
        self.restore_from_to(resp, ctx, &m, notes);
        let ice = matches!(ctx.get(STANDARD_ICE_KEY), Some(ScratchValue::Bool(true)));
        match sdp_of(&m, notes) {
            Ok(Some((sdp_bytes, extracted))) => {
                match sdp::to_standard(sdp_bytes, &StandardOptions { target_ice: ice }) {
                    Ok(r) => {
                        apply_rewrite!(resp, r, extracted, "sdp.standard", notes);
                    }
                    Err(SdpReject::NotAcceptable(why) | SdpReject::Malformed(why)) => {
                        if extracted {
                            resp.replace_body("application/sdp", sdp_bytes);
                        }
                        host::counter_add("answer_not_translated", 1);
                        notes.add(|| format!("sdp: answer left as is ({why})"));
                    }
                }
            }
            Ok(None) => {}
            Err(e) => notes.add(|| format!("body: left as is ({e})")),
        }
    }

    /// From and To as the request's sender wrote them (the answer's To tag kept).
    fn restore_from_to(
        &self,
        resp: &mut Response<'_>,
        ctx: &Context<'_>,
        m: &Message<'_>,
        notes: &Notes,
    ) {
        if let (Some(orig), Some((i, now))) = (ctx.get_text(FROM_KEY), header_index(m, kind::FROM))
        {
            if orig != now {
                resp.replace_header_at(i, orig);
                notes.add(|| "identity.restore: From as the caller sent it".into());
            }
        }
        if let (Some(orig), Some((i, now))) = (ctx.get_text(TO_KEY), header_index(m, kind::TO)) {
            let tag = NameAddr::parse(&now).ok().and_then(|t| t.tag());
            let orig_has_tag = NameAddr::parse(orig).ok().and_then(|t| t.tag()).is_some();
            let v = match tag {
                Some(t) if !orig_has_tag => format!("{orig};tag={t}"),
                _ => orig.to_string(),
            };
            if v != now {
                resp.replace_header_at(i, &v);
                notes.add(|| {
                    "identity.restore: To as the caller sent it (with the answer's tag)".into()
                });
            }
        }
    }
}

/// Requests that set up a dialog whose later requests need the Microsoft party's epid back. Other
/// requests (OPTIONS, MESSAGE outside a session, REGISTER) leave nothing in the dialog table.
fn creates_dialog(method: &str) -> bool {
    matches!(method, "INVITE" | "SUBSCRIBE" | "REFER")
}

/// `sip:user@host` of a URI (parameters and port dropped), for the epid.
fn aor_of(uri: &str) -> String {
    match sip_interop_abi::sip::Uri::parse(uri)
        .ok()
        .and_then(|u| u.as_sip().copied())
    {
        Some(s) => format!("sip:{}@{}", s.user.unwrap_or(""), s.host_text),
        None => uri.to_string(),
    }
}

const EXAMPLE_CONFIG: &str = r#"ms_domains = ["lync.example.com"]

[[peer]]
name = "lync-pool"
address = "192.0.2.10"
dialect = "ms"
encryption = "optional"

[[peer]]
name = "cucm"
address = "198.51.100.20:5060"
dialect = "standard"

[numbers]
standard = "e164"
international_prefix = "00"
country_code = "1"

[microsoft]
epid_seed = "example-gateway"
"#;

const CONFIG_SCHEMA: &str = "peer: array of {name, address (IP or IP:port), dialect (ms|standard), encryption (ms peers: required|optional|rejected), ice (standard peers: bool)} — peers by address\nms_domains: array of string — domains on the Microsoft side\nms_trusted_pools: array of string — TLS trusted pools that are Microsoft pools\ndetect: bool (default true) — recognise Microsoft peers per message\nnumbers.standard: e164|no-plus (default e164); numbers.international_prefix (default 00); numbers.country_code; numbers.national_prefix\nmicrosoft.encryption: required|optional|rejected (default optional); microsoft.epid_seed; microsoft.default_offer (SDP); microsoft.answer_ice_reinvite (default true)\nstandard.ice: bool (default false)\nmax_dialogs (default 100000); dialog_idle_s (default 43200)\n";
