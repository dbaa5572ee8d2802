//! The chain with real plugin shared objects: panics contained, mismatched plugins refused, state
//! carried across hot swaps, reloads under load, budgets and timers.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sip_interop_abi::sdk::{Transport, Verdict};
use sip_interop_abi::sip::Message;
use sip_interop_host::chain::TxContext;
use sip_interop_host::Host;
use support::*;

fn ctx(id: u64) -> TxContext {
    TxContext::new(
        "192.0.2.10:5060".parse().unwrap(),
        "127.0.0.1:5060".parse().unwrap(),
        Transport::Udp,
        id,
    )
}

fn stateful_config(label: &str) -> String {
    format!(
        "[[chain]]\nname = \"counter\"\nplugin = \"{}\"\n[chain.config]\nlabel = \"{label}\"\n",
        plugin("test_plugin_stateful").display()
    )
}

#[test]
fn a_panicking_plugin_costs_one_message_a_500_and_the_host_lives_on() {
    let dir = temp_dir("panic");
    let text = format!(
        "[[chain]]\nname = \"boom\"\nplugin = \"{}\"\n[chain.config]\nwhen_header = \"X-Panic\"\n\n{}",
        plugin("test_plugin_panicking").display(),
        stateful_config("a")
    );
    let host = Host::from_config(config(&dir, &text)).unwrap();

    let bad = invite("panic-1", "X-Panic: now\r\n");
    let out = host.process_request(&Message::parse(&bad).unwrap(), &mut ctx(1), None);
    assert_eq!(out.verdict, Verdict::respond(500, "Server Internal Error"));
    assert_eq!(out.decided_by, Some(0));

    let good = invite("panic-2", "");
    let out = host.process_request(&Message::parse(&good).unwrap(), &mut ctx(2), None);
    assert_eq!(
        out.verdict,
        Verdict::Continue,
        "the next message is served normally"
    );
    let edited = out.edited.expect("the stateful plugin after it ran");
    assert_eq!(
        header_values(&edited, "X-Seen"),
        vec!["1"],
        "only the good message reached the next plugin"
    );

    let metrics = sip_interop_host::metrics::render(host.metrics());
    assert!(
        metrics.contains("sip_interop_plugin_panics_total{plugin=\"boom\"} 1"),
        "{metrics}"
    );
}

#[test]
fn panic_policies_drop_and_skip() {
    let dir = temp_dir("panic-policy");
    for (policy, expected) in [("drop", Verdict::Drop), ("skip", Verdict::Continue)] {
        let text = format!(
            "[[chain]]\nplugin = \"{}\"\non_panic = \"{policy}\"\n",
            plugin("test_plugin_panicking").display()
        );
        let host = Host::from_config(config(&dir, &text)).unwrap();
        let msg = invite("policy", "");
        let out = host.process_request(&Message::parse(&msg).unwrap(), &mut ctx(1), None);
        assert_eq!(out.verdict, expected, "policy {policy}");
    }
}

#[test]
fn a_panic_in_a_response_hook_passes_the_response_on() {
    let dir = temp_dir("panic-response");
    let text = format!("[[chain]]\nplugin = \"{}\"\n[chain.config]\nwhen_header = \"X-Never\"\nin_response = true\n", plugin("test_plugin_panicking").display());
    let host = Host::from_config(config(&dir, &text)).unwrap();
    let chain = host.snapshot();
    let resp = ok_response("r1");
    let out = host.process_response(&chain, &Message::parse(&resp).unwrap(), &mut ctx(1), None);
    assert_eq!(out.verdict, sip_interop_abi::sdk::ResponseVerdict::Continue);
    assert!(out.edited.is_none());
}

#[test]
fn a_plugin_built_against_another_interface_is_refused_with_one_line() {
    let dir = temp_dir("mismatch");
    let good = Host::from_config(config(&dir, &stateful_config("a"))).unwrap();
    let generation = good.generation();

    let text = format!(
        "[[chain]]\nplugin = \"{}\"\n",
        plugin("test_plugin_mismatched").display()
    );
    let bad = config(&dir, &text);
    let err = good.install(bad, "test").unwrap_err();
    assert_eq!(err.problems.len(), 1);
    let line = &err.problems[0];
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(
        line.contains("libtest_plugin_mismatched.so"),
        "names the plugin: {line}"
    );
    assert!(
        line.contains("incompatible plugin interface"),
        "names the cause: {line}"
    );
    assert!(
        line.contains("host.toml:2:"),
        "points at the config line: {line}"
    );
    assert_eq!(
        good.generation(),
        generation,
        "the running chain stays in force"
    );
}

#[test]
fn state_survives_a_swap() {
    let dir = temp_dir("state");
    let host = Host::from_config(config(&dir, &stateful_config("a"))).unwrap();
    for i in 0..3 {
        let m = invite(&format!("s{i}"), "");
        host.process_request(&Message::parse(&m).unwrap(), &mut ctx(i), None);
    }
    host.install(config(&dir, &stateful_config("b")), "test")
        .unwrap();
    let m = invite("s3", "");
    let out = host.process_request(&Message::parse(&m).unwrap(), &mut ctx(3), None);
    let edited = out.edited.unwrap();
    assert_eq!(
        header_values(&edited, "X-Seen"),
        vec!["4"],
        "the count carried over"
    );
    assert_eq!(
        header_values(&edited, "X-Label-b"),
        vec!["1"],
        "the new config is in force"
    );
    assert_eq!(
        header_values(&edited, "X-Chain"),
        vec![host.generation().to_string()]
    );
}

#[test]
fn a_successor_that_refuses_the_state_keeps_the_old_chain() {
    let dir = temp_dir("state-refused");
    let host = Host::from_config(config(&dir, &stateful_config("a"))).unwrap();
    let generation = host.generation();
    let text = format!("{}refuse_import = true\n", stateful_config("b"));
    let err = host.install(config(&dir, &text), "test").unwrap_err();
    assert!(
        err.to_string().contains("refused the old one's state"),
        "{err}"
    );
    assert_eq!(host.generation(), generation);
}

#[test]
fn a_bad_reload_keeps_the_running_chain_and_says_what_failed() {
    let dir = temp_dir("bad-reload");
    let host = Host::from_config(config(&dir, &stateful_config("a"))).unwrap();
    let generation = host.generation();
    std::fs::write(
        dir.join("host.toml"),
        format!("{}bogus = 1\n", stateful_config("b")),
    )
    .unwrap();
    let err = host.reload("test").unwrap_err();
    assert!(
        err.to_string().contains("host.toml:6:"),
        "names the line: {err}"
    );
    assert!(err.to_string().contains("bogus"), "names the key: {err}");
    assert_eq!(host.generation(), generation);
    let m = invite("after", "");
    let out = host.process_request(&Message::parse(&m).unwrap(), &mut ctx(9), None);
    assert_eq!(
        header_values(&out.edited.unwrap(), "X-Label-a"),
        vec!["1"],
        "the old chain still serves"
    );
    let status = sip_interop_host::admin::status_text(&host);
    assert!(status.contains("REFUSED"), "{status}");
}

#[test]
fn a_thousand_reloads_under_load_lose_nothing_and_no_transaction_sees_two_chains() {
    let dir = temp_dir("reload-storm");
    let two = |l1: &str, l2: &str| {
        format!(
            "[[chain]]\nname = \"first\"\nplugin = \"{p}\"\n[chain.config]\nlabel = \"{l1}\"\n\n[[chain]]\nname = \"second\"\nplugin = \"{p}\"\n[chain.config]\nlabel = \"{l2}\"\n",
            p = plugin("test_plugin_stateful").display()
        )
    };
    let host = Host::from_config(config(&dir, &two("a", "b"))).unwrap();
    let configs = [config(&dir, &two("a", "b")), config(&dir, &two("c", "d"))];
    let stop = Arc::new(AtomicBool::new(false));
    let processed = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for w in 0..3u64 {
        let (host, stop, processed) = (host.clone(), stop.clone(), processed.clone());
        workers.push(std::thread::spawn(move || {
            let mut sent = 0u64;
            let mut generations_seen = std::collections::BTreeSet::new();
            while !stop.load(Ordering::Relaxed) || sent < 200 {
                let call_id = format!("storm-{w}-{sent}");
                let req = invite(&call_id, "");
                let chain = host.snapshot();
                let mut c = ctx(sent);
                let out =
                    chain.run_request(&Message::parse(&req).unwrap(), &mut c, host.metrics(), None);
                let edited = out.edited.expect("both plugins stamp the request");
                let gens = header_values(&edited, "X-Chain");
                assert_eq!(gens.len(), 2, "both plugins ran");
                assert_eq!(gens[0], gens[1], "one transaction, one chain: {gens:?}");
                assert_eq!(gens[0], chain.generation.to_string());
                let resp = ok_response(&call_id);
                let r =
                    host.process_response(&chain, &Message::parse(&resp).unwrap(), &mut c, None);
                let r = r.edited.expect("response stamped");
                for (req_gen, resp_gen) in header_values(&r, "X-Request-Chain")
                    .iter()
                    .zip(header_values(&r, "X-Response-Chain"))
                {
                    assert_eq!(
                        req_gen, &resp_gen,
                        "request and response ran on the same chain"
                    );
                    assert_eq!(resp_gen, gens[0]);
                }
                generations_seen.insert(chain.generation);
                sent += 1;
                processed.fetch_add(1, Ordering::Relaxed);
            }
            (sent, generations_seen.len())
        }));
    }
    let t0 = Instant::now();
    for i in 0..1000 {
        host.install(configs[i % 2].clone(), "storm")
            .expect("every reload succeeds");
    }
    let reload_time = t0.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    let mut saw_several = false;
    for w in workers {
        let (sent, gens) = w
            .join()
            .expect("worker finished without a failed assertion");
        total += sent;
        saw_several |= gens > 1;
    }
    assert_eq!(processed.load(Ordering::Relaxed), total);
    let m = host.metrics();
    assert_eq!(
        m.requests.load(Ordering::Relaxed),
        total,
        "every request walked a chain"
    );
    assert_eq!(
        m.responses.load(Ordering::Relaxed),
        total,
        "every response walked a chain"
    );
    for name in ["first", "second"] {
        assert_eq!(
            m.plugin(name).request_calls.load(Ordering::Relaxed),
            total,
            "{name} saw every request"
        );
    }
    assert_eq!(host.generation(), 1001);
    assert!(saw_several, "traffic ran across several generations");
    assert_eq!(m.reloads_ok.load(Ordering::Relaxed), 1000);
    assert_eq!(
        m.images_loaded.load(Ordering::Relaxed),
        1,
        "unchanged plugin files reuse their image"
    );
    eprintln!("1000 reloads in {reload_time:?} with {total} transactions alongside");
}

#[test]
fn a_rebuilt_plugin_at_the_same_path_really_reloads() {
    let dir = temp_dir("rebuilt");
    let path = dir.join("plugin.so");
    std::fs::copy(plugin("test_plugin_stateful"), &path).unwrap();
    let text = "[[chain]]\nname = \"p\"\nplugin = \"plugin.so\"\n[chain.config]\nlabel = \"a\"\n";
    let host = Host::from_config(config(&dir, text)).unwrap();
    assert_eq!(
        host.snapshot().links[0]
            .instance
            .image
            .manifest
            .name
            .as_str(),
        "test-plugin-stateful"
    );

    // "Rebuild": another build lands at the same path (write to a temp name and rename, as cargo does).
    let tmp = dir.join("plugin.so.new");
    std::fs::copy(plugin("test_plugin_panicking"), &tmp).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    std::fs::write(dir.join("host.toml"), "[[chain]]\nname = \"p\"\nplugin = \"plugin.so\"\n[chain.config]\nwhen_header = \"X-Panic\"\n").unwrap();
    host.reload("test").unwrap();
    let link = &host.snapshot().links[0];
    assert_eq!(
        link.instance.image.manifest.name.as_str(),
        "test-plugin-panicking",
        "the new image runs"
    );
    assert_eq!(link.instance.image.serial, 2);
    assert_eq!(host.metrics().images_loaded.load(Ordering::Relaxed), 2);
}

#[test]
fn retained_images_are_bounded() {
    let dir = temp_dir("bounded");
    let path = dir.join("plugin.so");
    std::fs::copy(plugin("test_plugin_stateful"), &path).unwrap();
    let size_mib = std::fs::metadata(&path).unwrap().len() >> 20;
    let text = format!("[reload]\nmax_retained_image_mib = {}\n[[chain]]\nplugin = \"plugin.so\"\n[chain.config]\nlabel = \"a\"\n", size_mib + 1);
    let host = Host::from_config(config(&dir, &text)).unwrap();
    // A rebuild with other bytes would need a second image.
    let tmp = dir.join("plugin.so.new");
    std::fs::copy(plugin("test_plugin_slow"), &tmp).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    std::fs::write(
        dir.join("host.toml"),
        text.replace("label = \"a\"", "sleep_ms = 1"),
    )
    .unwrap();
    let err = host.reload("test").unwrap_err();
    assert!(err.to_string().contains("max_retained_image_mib"), "{err}");
    assert_eq!(host.generation(), 1);
}

#[test]
fn a_slow_plugin_is_counted_against_its_budget_and_the_message_still_goes_through() {
    let dir = temp_dir("slow");
    let text = format!("[[chain]]\nname = \"slow\"\nplugin = \"{}\"\nbudget_ms = 5\n[chain.config]\nsleep_ms = 30\n", plugin("test_plugin_slow").display());
    let host = Host::from_config(config(&dir, &text)).unwrap();
    let m = invite("slow", "");
    let out = host.process_request(&Message::parse(&m).unwrap(), &mut ctx(1), None);
    assert_eq!(out.verdict, Verdict::Continue);
    let text = sip_interop_host::metrics::render(host.metrics());
    assert!(
        text.contains("sip_interop_plugin_budget_overruns_total{plugin=\"slow\"} 1"),
        "{text}"
    );
}

#[test]
fn a_timer_armed_by_a_plugin_fires_into_it() {
    let dir = temp_dir("timer");
    let host = Host::from_config(config(&dir, &stateful_config("a"))).unwrap();
    let m = invite("timer", "X-Arm-Timer: yes\r\n");
    host.process_request(&Message::parse(&m).unwrap(), &mut ctx(1), None);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = sip_interop_host::metrics::render(host.metrics());
        if text
            .contains("sip_interop_plugin_counter_total{plugin=\"counter\",name=\"timer_fired\"} 1")
        {
            assert!(
                text.contains(
                    "sip_interop_plugin_hook_calls_total{plugin=\"counter\",hook=\"timer\"} 1"
                ),
                "{text}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "timer did not fire: {text}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn config_errors_from_a_plugin_point_at_the_line() {
    let dir = temp_dir("plugin-config");
    let text = format!(
        "[[chain]]\nplugin = \"{}\"\n[chain.config]\nlabel = \"has space\"\n",
        plugin("test_plugin_stateful").display()
    );
    let err = Host::from_config(config(&dir, &text))
        .err()
        .expect("refused");
    let line = &err.problems[0];
    assert!(
        line.contains("host.toml:4:1: chain[0].config.label"),
        "{line}"
    );
    assert!(line.contains("letters and digits"), "{line}");
}

#[test]
fn a_timer_armed_before_a_swap_fires_into_the_successor() {
    let dir = temp_dir("timer-swap");
    let host = Host::from_config(config(&dir, &stateful_config("a"))).unwrap();
    // The stateful plugin arms a 10 ms timer; swap at once, so the arming instance is gone when it fires.
    let m = invite("timer-swap", "X-Arm-Timer: yes\r\n");
    host.process_request(&Message::parse(&m).unwrap(), &mut ctx(1), None);
    host.install(config(&dir, &stateful_config("b")), "test")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = sip_interop_host::metrics::render(host.metrics());
        if text
            .contains("sip_interop_plugin_counter_total{plugin=\"counter\",name=\"timer_fired\"} 1")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the successor never got the timer: {text}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_refused_plugin_file_is_not_mapped_again_on_every_reload() {
    let dir = temp_dir("refused-once");
    let host = Host::from_config(config(&dir, &stateful_config("a"))).unwrap();
    let text = format!(
        "{}\n[[chain]]\nname = \"bad\"\nplugin = \"{}\"\n",
        stateful_config("a"),
        plugin("test_plugin_mismatched").display()
    );
    std::fs::write(dir.join("host.toml"), &text).unwrap();
    for _ in 0..3 {
        let err = host.reload("test").unwrap_err();
        assert!(
            err.to_string().contains("incompatible plugin interface"),
            "{err}"
        );
    }
    let m = host.metrics();
    assert_eq!(
        m.images_loaded.load(Ordering::Relaxed),
        2,
        "the stateful image and the refused one, each mapped once"
    );
    let retained = m.images_retained_bytes.load(Ordering::Relaxed);
    let sizes = std::fs::metadata(plugin("test_plugin_stateful"))
        .unwrap()
        .len()
        + std::fs::metadata(plugin("test_plugin_mismatched"))
            .unwrap()
            .len();
    assert_eq!(retained, sizes, "the refused image's memory is counted too");
    assert_eq!(m.reloads_failed.load(Ordering::Relaxed), 3);
}

#[test]
fn touching_an_unchanged_plugin_does_not_map_it_again() {
    let dir = temp_dir("touch");
    let path = dir.join("plugin.so");
    std::fs::copy(plugin("test_plugin_stateful"), &path).unwrap();
    let text = "[[chain]]\nname = \"p\"\nplugin = \"plugin.so\"\n[chain.config]\nlabel = \"a\"\n";
    let host = Host::from_config(config(&dir, text)).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    drop(f);
    host.reload("test").unwrap();
    assert_eq!(host.metrics().images_loaded.load(Ordering::Relaxed), 1);
    assert_eq!(host.snapshot().links[0].instance.image.serial, 1);
}

#[test]
fn edits_that_would_inject_a_header_are_refused_and_counted() {
    let dir = temp_dir("inject");
    let text = format!("[[chain]]\nname = \"sly\"\nplugin = \"{}\"\non_panic = \"skip\"\n[chain.config]\ninject_header = true\n\n{}", plugin("test_plugin_panicking").display(), stateful_config("a"));
    let host = Host::from_config(config(&dir, &text)).unwrap();
    let m = invite("inject", "");
    let mut steps = Vec::new();
    let out = host.process_request(&Message::parse(&m).unwrap(), &mut ctx(1), Some(&mut steps));
    assert!(
        matches!(&steps[0].outcome, sip_interop_host::chain::StepOutcome::Failed { error, .. } if error.contains("refused edit")),
        "{:?}",
        steps[0].outcome
    );
    let edited = out.edited.expect("the next plugin still ran");
    assert!(
        header_values(&edited, "Route").is_empty(),
        "no smuggled Route: {}",
        String::from_utf8_lossy(&edited)
    );
    assert!(header_values(&edited, "X-Note").is_empty());
    let metrics = sip_interop_host::metrics::render(host.metrics());
    assert!(
        metrics.contains("sip_interop_plugin_bad_edits_total{plugin=\"sly\"} 1"),
        "{metrics}"
    );
}
