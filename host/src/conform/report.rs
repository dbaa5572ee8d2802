//! The conformance report: one verdict per check, hook timings, and the two ways to print it.

use serde::{Deserialize, Serialize};

/// One check and how it went.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Check {
    /// Short name (`manifest`, `unknown-key-refused`, …).
    pub name: String,
    /// Whether the plugin passed.
    pub passed: bool,
    /// One line: what was checked and what was seen.
    pub summary: String,
    /// Evidence: the messages that failed, the plugin's own words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl Check {
    /// A passed check.
    pub fn pass(name: &str, summary: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            passed: true,
            summary: summary.into(),
            details: Vec::new(),
        }
    }

    /// A failed check.
    pub fn fail(name: &str, summary: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            passed: false,
            summary: summary.into(),
            details: Vec::new(),
        }
    }

    /// Passed when `ok`.
    pub fn verdict(name: &str, ok: bool, summary: impl Into<String>) -> Self {
        if ok {
            Check::pass(name, summary)
        } else {
            Check::fail(name, summary)
        }
    }

    /// With evidence lines.
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }
}

/// Time spent in one hook over the corpus (one thread, nothing else running in the harness).
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct HookTiming {
    /// `request` or `response`.
    pub hook: String,
    /// Calls measured.
    pub calls: usize,
    /// Median, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// Slowest call, µs.
    pub max_us: f64,
    /// The message of the slowest call.
    pub slowest: String,
}

impl HookTiming {
    /// Percentiles of `samples` (µs, with the message each came from).
    pub fn of(hook: &str, samples: &mut [(f64, String)]) -> Option<HookTiming> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].0;
        let (max_us, slowest) = samples[samples.len() - 1].clone();
        Some(HookTiming {
            hook: hook.into(),
            calls: samples.len(),
            p50_us: at(0.5),
            p99_us: at(0.99),
            max_us,
            slowest,
        })
    }
}

/// What the plugin logged through the host while the suite ran.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct LogSummary {
    /// Lines at warn level.
    pub warnings: usize,
    /// Lines at error level.
    pub errors: usize,
    /// A few of the warn/error lines.
    pub sample: Vec<String>,
}

/// The whole report.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Report {
    /// The shared object checked.
    pub plugin: String,
    /// Manifest name and version, when it loaded.
    pub name: String,
    /// Manifest version.
    pub version: String,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
    /// Hook timings.
    pub timings: Vec<HookTiming>,
    /// Per-hook budget, ms.
    pub budget_ms: u64,
    /// What the plugin logged.
    pub log: LogSummary,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    /// The report for people: one line per check, evidence indented under it.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let who = if self.name.is_empty() {
            String::from("(did not load)")
        } else {
            format!("{} {}", self.name, self.version)
        };
        s.push_str(&format!("conform {}: {who}\n", self.plugin));
        for c in &self.checks {
            let mark = if c.passed { "PASS" } else { "FAIL" };
            s.push_str(&format!("{mark}  {:<22} {}\n", c.name, c.summary));
            for d in &c.details {
                s.push_str(&format!("        {d}\n"));
            }
        }
        for t in &self.timings {
            s.push_str(&format!(
                "      {} hook: {} calls, p50 {}, p99 {}, max {} ({}); budget {} ms\n",
                t.hook,
                t.calls,
                micros(t.p50_us),
                micros(t.p99_us),
                micros(t.max_us),
                t.slowest,
                self.budget_ms
            ));
        }
        if self.log.warnings + self.log.errors > 0 {
            s.push_str(&format!(
                "      the plugin logged {} warning(s) and {} error(s) through the host, e.g.:\n",
                self.log.warnings, self.log.errors
            ));
            for l in &self.log.sample {
                s.push_str(&format!("        {l}\n"));
            }
        }
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        s.push_str(&format!(
            "result: {} passed, {failed} failed\n",
            self.checks.len() - failed
        ));
        s
    }
}

/// `12 µs`, `1.4 ms`.
fn micros(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_sorted_samples() {
        let mut s: Vec<(f64, String)> = (1..=100)
            .rev()
            .map(|i| (i as f64, format!("m{i}")))
            .collect();
        let t = HookTiming::of("request", &mut s).unwrap();
        assert_eq!((t.p50_us, t.p99_us, t.max_us), (51.0, 99.0, 100.0));
        assert_eq!(t.slowest, "m100");
        assert!(HookTiming::of("request", &mut []).is_none());
    }

    #[test]
    fn a_report_passes_only_with_every_check_passed() {
        let mut r = Report::default();
        assert!(!r.passed(), "an empty report proves nothing");
        r.checks.push(Check::pass("manifest", "ok"));
        assert!(r.passed());
        r.checks
            .push(Check::fail("quiet", "printed").with_details(vec!["hello".into()]));
        assert!(!r.passed());
        let text = r.to_text();
        assert!(text.contains("FAIL  quiet"), "{text}");
        assert!(text.contains("        hello\n"), "{text}");
        assert!(text.ends_with("result: 1 passed, 1 failed\n"), "{text}");
    }
}
