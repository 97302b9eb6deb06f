//! A run as a document people would rather look at than read: per candidate its finding, diff,
//! verdict and time, with a timeline of the run; as Markdown (`nova runs show --markdown`) and
//! as one static HTML page with no script (`nova runs show --html`).

use std::fmt::Write as _;

use super::report;
use super::runs::RunDetail;
use crate::orchestrator::stamp;
use crate::store::{CandidateRow, FindingRow};

/// One stretch of the run's timeline: what ran, from when, for how long, and how it ended.
struct Span<'a> {
    label: String,
    start: f64,
    seconds: f64,
    /// `accepted`, `rejected`, `split` (a group refused as a whole, then bisected), `skipped`, or
    /// `base` for the base's proof and the review.
    verdict: &'a str,
}

/// The run's timeline: the base proved and the tree reviewed first (what the candidates' own
/// times leave of the run's), then the candidates in the order they ran.
fn timeline<'a>(detail: &'a RunDetail<'_>) -> Vec<Span<'a>> {
    let total = detail
        .run
        .finished_at
        .map(|end| (end - detail.run.started_at).max(0) as f64);
    let candidates: f64 = detail.candidates.iter().map(|c| c.seconds).sum();
    let before = total.map_or(0.0, |total| (total - candidates).max(0.0));
    let mut spans = vec![Span {
        label: String::from("base proved, tree reviewed"),
        start: 0.0,
        seconds: before,
        verdict: "base",
    }];
    let mut at = before;
    for c in detail.candidates {
        spans.push(Span {
            label: format!("[{}] {}", c.idx + 1, c.summary),
            start: at,
            seconds: c.seconds,
            verdict: &c.verdict,
        });
        at += c.seconds;
    }
    spans
}

/// `1:05`: minutes and seconds from the run's start.
fn clock(seconds: f64) -> String {
    let whole = seconds.round() as u64;
    format!("{}:{:02}", whole / 60, whole % 60)
}

/// The private ref that keeps candidate `c`, when the run left one.
fn checkpoint(detail: &RunDetail<'_>, c: &CandidateRow) -> Option<String> {
    let n = usize::try_from(c.idx).ok()? + 1;
    detail
        .checkpoints
        .iter()
        .any(|(kept, _)| *kept == n)
        .then(|| crate::git::checkpoint_ref(&detail.run.id, n))
}

fn finding_of<'a>(detail: &'a RunDetail<'_>, c: &CandidateRow) -> Option<&'a FindingRow> {
    detail.findings.iter().find(|f| f.idx == c.finding)
}

/// The run as Markdown.
pub(super) fn markdown(detail: &RunDetail<'_>) -> String {
    let run = detail.run;
    let mut out = format!(
        "# Nova run {} ({}, {})\n\n",
        run.id, run.command, run.status
    );
    let _ = writeln!(out, "- started: {} UTC", stamp(run.started_at));
    if let Some(base) = &run.base {
        let _ = writeln!(out, "- base: `{base}`");
    }
    if let Some(branch) = &run.branch {
        let _ = writeln!(out, "- branch: `{branch}`");
    }
    if let Some(summary) = &run.summary {
        let _ = writeln!(out, "- result: {summary}");
    }
    out.push_str(
        "\n## Timeline\n\n| from | seconds | what | verdict |\n| --- | --- | --- | --- |\n",
    );
    for span in timeline(detail) {
        let _ = writeln!(
            out,
            "| {} | {:.1} | {} | {} |",
            clock(span.start),
            span.seconds,
            report::table_cell(&span.label),
            span.verdict
        );
    }
    let _ = writeln!(out, "\n## Candidates ({})\n", detail.candidates.len());
    for c in detail.candidates {
        let _ = writeln!(
            out,
            "### [{}] {}: {}\n",
            c.idx + 1,
            c.verdict,
            c.summary.trim()
        );
        if let Some(f) = finding_of(detail, c) {
            let _ = writeln!(
                out,
                "Finding: `{}` at `{}:{}`: {}\n",
                f.rule,
                f.path,
                f.line,
                f.message.trim()
            );
        }
        let commit = c
            .commit
            .as_deref()
            .map(|commit| format!(", commit `{}`", commit.get(..10).unwrap_or(commit)))
            .unwrap_or_default();
        let _ = writeln!(out, "Validated in {:.1} s{commit}.\n", c.seconds);
        if let Some(name) = checkpoint(detail, c) {
            let _ = writeln!(out, "Kept as `{name}`.\n");
        }
        for reason in &c.reasons {
            let _ = writeln!(out, "- {}", reason.trim());
        }
        if !c.reasons.is_empty() {
            out.push('\n');
        }
        if let Some(diff) = &c.diff {
            // A fence longer than any run of backticks in the diff.
            let fence = "`".repeat(longest_backticks(diff).max(2) + 1);
            let _ = writeln!(out, "{fence}diff\n{}\n{fence}\n", diff.trim_end());
        }
    }
    out
}

fn longest_backticks(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Text safe inside HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#1b1f24}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}code,pre{font:13px/1.4 ui-monospace,monospace}\
pre{background:#f6f8fa;padding:.8em;overflow:auto;border-radius:6px}\
.timeline{display:flex;height:2em;border-radius:6px;overflow:hidden;background:#eee}\
.timeline div{min-width:2px}.base{background:#8c959f}.accepted{background:#2da44e}\
.rejected{background:#cf222e}.skipped{background:#d4a72c}.split{background:#bf8700}\
.verdict{font-weight:600;padding:0 .4em;border-radius:4px;color:#fff}\
.add{color:#116329}.del{color:#82071e}.hunk{color:#8250df}\
table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #d0d7de;text-align:left}";

/// The run as one static HTML page: no script, no outside resource.
pub(super) fn html(detail: &RunDetail<'_>) -> String {
    let run = detail.run;
    let title = format!("Nova run {} ({}, {})", run.id, run.command, run.status);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n<table>\n",
        t = escape(&title)
    );
    let mut row = |key: &str, value: &str| {
        let _ = writeln!(out, "<tr><th>{key}</th><td>{}</td></tr>", escape(value));
    };
    row("started", &format!("{} UTC", stamp(run.started_at)));
    if let Some(base) = &run.base {
        row("base", base);
    }
    if let Some(branch) = &run.branch {
        row("branch", branch);
    }
    if let Some(summary) = &run.summary {
        row("result", summary);
    }
    out.push_str("</table>\n<h2>Timeline</h2>\n<div class=\"timeline\">\n");
    let spans = timeline(detail);
    let total: f64 = spans.iter().map(|s| s.seconds).sum::<f64>().max(0.001);
    for span in &spans {
        let _ = writeln!(
            out,
            "<div class=\"{}\" style=\"width:{:.3}%\" title=\"{} at {}, {:.1} s\"></div>",
            escape(span.verdict),
            span.seconds / total * 100.0,
            escape(&span.label),
            clock(span.start),
            span.seconds
        );
    }
    out.push_str(
        "</div>\n<table>\n<tr><th>from</th><th>seconds</th><th>what</th><th>verdict</th></tr>\n",
    );
    for span in &spans {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td></tr>",
            clock(span.start),
            span.seconds,
            escape(&span.label),
            escape(span.verdict)
        );
    }
    let _ = writeln!(
        out,
        "</table>\n<h2>Candidates ({})</h2>",
        detail.candidates.len()
    );
    for c in detail.candidates {
        candidate_html(&mut out, detail, c);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn candidate_html(out: &mut String, detail: &RunDetail<'_>, c: &CandidateRow) {
    let _ = writeln!(
        out,
        "<h3>[{}] <span class=\"verdict {v}\">{v}</span> {}</h3>",
        c.idx + 1,
        escape(c.summary.trim()),
        v = escape(&c.verdict)
    );
    if let Some(f) = finding_of(detail, c) {
        let _ = writeln!(
            out,
            "<p>Finding: <code>{}</code> at <code>{}:{}</code>: {}</p>",
            escape(&f.rule),
            escape(&f.path),
            f.line,
            escape(f.message.trim())
        );
    }
    let commit = c
        .commit
        .as_deref()
        .map(|commit| {
            format!(
                ", commit <code>{}</code>",
                escape(commit.get(..10).unwrap_or(commit))
            )
        })
        .unwrap_or_default();
    let _ = writeln!(out, "<p>Validated in {:.1} s{commit}.</p>", c.seconds);
    if let Some(name) = checkpoint(detail, c) {
        let _ = writeln!(out, "<p>Kept as <code>{}</code>.</p>", escape(&name));
    }
    if !c.reasons.is_empty() {
        out.push_str("<ul>\n");
        for reason in &c.reasons {
            let _ = writeln!(out, "<li>{}</li>", escape(reason.trim()));
        }
        out.push_str("</ul>\n");
    }
    if let Some(diff) = &c.diff {
        out.push_str("<pre>");
        for line in diff.lines() {
            let class = match line.chars().next() {
                Some('+') if !line.starts_with("+++") => "add",
                Some('-') if !line.starts_with("---") => "del",
                Some('@') => "hunk",
                _ => "",
            };
            if class.is_empty() {
                let _ = writeln!(out, "{}", escape(line));
            } else {
                let _ = writeln!(out, "<span class=\"{class}\">{}</span>", escape(line));
            }
        }
        out.push_str("</pre>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunRow;
    use crate::validate::Baseline;

    fn detail_parts() -> (RunRow, Vec<FindingRow>, Vec<CandidateRow>) {
        let run = RunRow {
            seq: 1,
            id: String::from("20261203-120000"),
            command: String::from("improve"),
            base: Some(String::from("abc123")),
            branch: Some(String::from("nova/improve/20261203-120000")),
            started_at: 1_764_763_200,
            finished_at: Some(1_764_763_200 + 100),
            status: String::from("done"),
            summary: Some(String::from("1 accepted, 1 rejected")),
        };
        let finding = |idx, rule: &str| FindingRow {
            idx,
            rule: rule.to_owned(),
            agent: String::from("correctness-reviewer"),
            path: String::from("src/lib.rs"),
            line: 3,
            symbol: None,
            severity: String::from("warning"),
            message: String::from("a <message> & more"),
            fixable: true,
        };
        let candidate = |idx, verdict: &str, seconds| CandidateRow {
            idx,
            finding: idx,
            summary: format!("fix {idx}"),
            verdict: verdict.to_owned(),
            reasons: vec![String::from("test `t` failed: <boom>")],
            commit: (verdict == "accepted").then(|| String::from("0123456789abcdef")),
            seconds,
            diff: Some(String::from(
                "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1 @@\n-a\n+b <c>\n",
            )),
        };
        (
            run,
            vec![finding(0, "dbg-macro"), finding(1, "needless_return")],
            vec![
                candidate(0, "accepted", 30.0),
                candidate(1, "rejected", 20.0),
            ],
        )
    }

    /// Calls `check` with a run of two candidates, one accepted and one rejected.
    fn with_detail(check: impl FnOnce(&RunDetail<'_>)) {
        let (run, findings, candidates) = detail_parts();
        let base = Baseline::default();
        check(&RunDetail {
            run: &run,
            base: &base,
            findings: &findings,
            candidates: &candidates,
            flaky_tests: &[],
            checkpoints: &[(1, String::from("0123456789abcdef"))],
        });
    }

    #[test]
    fn the_timeline_starts_with_the_base_and_adds_up_to_the_run() {
        with_detail(|detail| {
            let spans = timeline(detail);
            let got: Vec<(f64, f64, &str)> = spans
                .iter()
                .map(|s| (s.start, s.seconds, s.verdict))
                .collect();
            assert_eq!(
                got,
                [
                    (0.0, 50.0, "base"),
                    (50.0, 30.0, "accepted"),
                    (80.0, 20.0, "rejected")
                ]
            );
            let md = markdown(detail);
            assert!(
                md.contains("| 0:50 | 30.0 | [1] fix 0 | accepted |"),
                "{md}"
            );
            assert!(
                md.contains("Finding: `needless_return` at `src/lib.rs:3`"),
                "{md}"
            );
            assert!(md.contains("```diff\n--- a/src/lib.rs"), "{md}");
            assert!(md.contains("commit `0123456789`"), "{md}");
            assert!(
                md.contains("Kept as `refs/nova/runs/20261203-120000/1`."),
                "{md}"
            );
        });
    }

    #[test]
    fn the_page_escapes_what_the_run_says_and_needs_nothing_outside() {
        with_detail(|detail| {
            let page = html(detail);
            assert!(page.starts_with("<!DOCTYPE html>"));
            assert!(page.contains("a &lt;message&gt; &amp; more"), "{page}");
            assert!(
                page.contains("<span class=\"add\">+b &lt;c&gt;</span>"),
                "{page}"
            );
            assert!(
                !page.contains("<boom>") && !page.contains("<script"),
                "{page}"
            );
            assert!(
                !page.contains("http://") && !page.contains("https://"),
                "{page}"
            );
            assert!(page.contains("style=\"width:50.000%\""), "{page}");
        });
    }
}
