//! Candidates proved in groups. The fixes of one rule are proposed one after another on the tip,
//! stacked, and proved as one change; a refused group is split (where its compile errors point,
//! by the feature configurations its fixes need, else in halves), each part proved on the tip the
//! parts before it left, until every commit on the branch is a proved change and every refused
//! fix was refused on its own (or, needing a configuration that builds on neither tree, skipped
//! unproved).

use std::cell::OnceCell;
use std::collections::BTreeSet;

use super::plan::{self, Plan};
use super::{Refusal, Run, TIME_CAP, Tried, finding_of, skip, try_beside, try_one};
use crate::edit::{FileChange, Patch, RepoPath, Stack};
use crate::findings::Finding;
use crate::index::Index;
use crate::orchestrator::brain::{Proposal, Refactorer, TipView};
use crate::orchestrator::change::{AgentPolicy, Author, Candidate, ChangePath, Origin};
use crate::orchestrator::improve::ImproveError;
use crate::validate::{self, FeatureConfig};

/// How `improve` gathers fixes into validated commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    /// The fixes of one rule in one pass are one commit, bisected when refused.
    Rule,
    /// Every machine fix of a pass is one commit, bisected when refused (the formatting of what
    /// was unformatted before rides along, or is a commit of its own after a split): the fewest
    /// validations.
    #[default]
    Pass,
    /// Every fix is proved and committed on its own.
    Single,
}

/// The pass's candidates in the groups they are proved in, in order: grouped by rule in the order
/// the rules first appear, or all in one (formatting, sorted last, stays last and apart).
pub(super) fn plan(
    candidates: Vec<(usize, Finding)>,
    grouping: Grouping,
) -> Vec<Vec<(usize, Finding)>> {
    let mut groups: Vec<Vec<(usize, Finding)>> = Vec::new();
    for (idx, finding) in candidates {
        // Only machine fixes group: a model's change is proved, repaired and described alone.
        let formatting = |f: &Finding| f.rule == crate::engine::RUSTFMT;
        let joins = match grouping {
            Grouping::Rule if finding.fix.is_some() => groups
                .iter_mut()
                .find(|g| g[0].1.fix.is_some() && g[0].1.rule == finding.rule),
            Grouping::Pass if finding.fix.is_some() => groups
                .iter_mut()
                .find(|g| g[0].1.fix.is_some() && formatting(&g[0].1) == formatting(&finding)),
            Grouping::Rule | Grouping::Pass | Grouping::Single => None,
        };
        match joins {
            Some(group) => group.push((idx, finding)),
            None => groups.push(vec![(idx, finding)]),
        }
    }
    groups
}

/// A group's members, as proposed on the tip one after another, and their stacked changes; and
/// the plans made for findings that need more than one change.
struct Formed {
    stack: Stack,
    /// In the stack's order: each member's candidate as proposed, and its finding's number.
    members: Vec<(Candidate, usize)>,
    plans: Vec<Plan>,
    /// Each member's [`Formed::needs`], read when first asked.
    needs: Vec<OnceCell<Vec<FeatureConfig>>>,
}

/// Proposes, proves and commits the pass's candidates group by group.
pub(super) fn try_groups(
    run: &mut Run<'_>,
    path: &mut ChangePath,
    refactorer: &mut dyn Refactorer,
    index: &Index,
    candidates: Vec<(usize, Finding)>,
) -> Result<(), ImproveError> {
    let groups = plan(candidates, run.request.grouping);
    run.counts.expected += groups.len();
    // The files each group's later groups touch: only the last group to touch a file formats it,
    // so that no fix of this pass is made on text formatting moved.
    let mut later: Vec<BTreeSet<String>> = vec![BTreeSet::new(); groups.len()];
    for at in (0..groups.len().saturating_sub(1)).rev() {
        let mut after = later[at + 1].clone();
        after.extend(
            groups[at + 1]
                .iter()
                .map(|(_, f)| f.path.as_str().to_owned()),
        );
        later[at] = after;
    }
    let mut remaining = groups.into_iter().zip(later).peekable();
    while let Some((group, later)) = remaining.next() {
        if let Some(reason) = stop(run, refactorer) {
            let rest = remaining.map(|(group, _)| group);
            for (_, finding) in std::iter::once(group).chain(rest).flatten() {
                run.outcome.left.push((what(&finding), reason.clone()));
            }
            break;
        }
        // One commit for the pass's fixes carries, when they pass together, the formatting of the
        // files that were unformatted before: one validation fewer.
        let fold = match remaining.peek() {
            Some((next, _)) if folds(run, &group, next) => next.clone(),
            _ => Vec::new(),
        };
        let formed = form(run, path, refactorer, index, group)?;
        let skip: BTreeSet<String> = run.drifted.union(&later).cloned().collect();
        let folded = land(run, path, refactorer, index, (&formed, &skip), &fold)?;
        if let Some((next, _)) = remaining.peek_mut().filter(|_| !folded.is_empty()) {
            next.retain(|(number, _)| !folded.contains(number));
            if next.is_empty() {
                // `land` took it off the count already.
                remaining.next();
            }
        }
        for plan in &formed.plans {
            plan::carry_out(run, path, refactorer, index, plan)?;
        }
    }
    Ok(())
}

/// Whether `group`'s whole first try carries the formatting group `next`: when the pass is one
/// commit (`Grouping::Pass`) and the refactorer formats.
fn folds(run: &Run<'_>, group: &[(usize, Finding)], next: &[(usize, Finding)]) -> bool {
    let formatting = |f: &Finding| f.rule == crate::engine::RUSTFMT;
    run.request.grouping == Grouping::Pass
        && run.formats
        && group
            .first()
            .is_some_and(|(_, f)| f.fix.is_some() && !formatting(f))
        && next.iter().all(|(_, f)| formatting(f))
}

/// Why no further candidate may start: the run's limits, its time cap, or its model's budget
/// (each recorded in the outcome).
pub(super) fn stop(run: &mut Run<'_>, refactorer: &dyn Refactorer) -> Option<String> {
    if let Some(reason) = run.stop_reason() {
        run.outcome.capped |= reason == TIME_CAP;
        return Some(reason.to_owned());
    }
    let why = refactorer.exhausted()?;
    run.outcome.spent = Some(why.clone());
    Some(why)
}

pub(super) fn what(finding: &Finding) -> String {
    format!("`{}` at {}", finding.rule, finding.location())
}

/// Proposes each member on the worktree as the members before it left it; what cannot be
/// proposed, is refused by the guard or collides with an earlier member is skipped. The worktree
/// is back at the tip after.
fn form(
    run: &mut Run<'_>,
    path: &mut ChangePath,
    refactorer: &mut dyn Refactorer,
    index: &Index,
    group: Vec<(usize, Finding)>,
) -> Result<Formed, ImproveError> {
    let mut formed = Formed {
        stack: Stack::default(),
        members: Vec::new(),
        plans: Vec::new(),
        needs: Vec::new(),
    };
    // Whether the group's own candidate is in the count: a skip before any member takes its
    // place (a group of skips is its skips alone), a member formed after that takes it back.
    let mut counted = true;
    for (finding_idx, finding) in group {
        let mut view = TipView::of(path, index);
        let proposal = refactorer.propose(&finding, &mut view);
        run.relay(refactorer)?;
        let proposal = proposal?;
        let refused = match proposal {
            Proposal::Plan { goal, steps } => {
                formed.plans.push(Plan {
                    finding,
                    number: finding_idx,
                    goal,
                    steps,
                });
                continue;
            }
            Proposal::Nothing { reason, later } => {
                if later {
                    // Placed against this pass's lint, it collides with an accepted fix; the
                    // next pass lints the tip again and may place it.
                    run.counts.seen.remove(&finding.fingerprint);
                }
                Err(reason)
            }
            Proposal::Candidate(candidate) => match path.guard(&candidate).into_iter().next() {
                Some(rejection) => Err(rejection.message),
                None => match formed.stack.push(&candidate.patch) {
                    Ok(_) => Ok(*candidate),
                    Err(collision) => {
                        run.counts.seen.remove(&finding.fingerprint);
                        Err(format!("{collision}; the next pass tries it on its own"))
                    }
                },
            },
        };
        match refused {
            Ok(candidate) => {
                path.workspace().apply(&candidate.patch)?;
                refactorer.accepted(&candidate);
                formed.members.push((candidate, finding_idx));
                formed.needs.push(OnceCell::new());
                if !counted {
                    run.counts.expected += 1;
                    counted = true;
                }
            }
            Err(reason) => {
                let first = counted && formed.members.is_empty();
                counted &= !first;
                let place = run.next_place(finding_idx, usize::from(!first));
                skip(run, place, &finding, reason)?;
            }
        }
    }
    if formed.members.is_empty() && counted {
        // Nothing to prove as a group (a plan's steps count for themselves).
        run.counts.expected = run.counts.expected.saturating_sub(1);
    } else {
        let all = (0..formed.members.len()).collect();
        let undo = formed.stack.patch("", &BTreeSet::new(), &all).reversed();
        path.workspace().apply(&undo)?;
    }
    Ok(formed)
}

/// Proves the group as one change and commits it; a refused group of more than one is split in
/// halves, each proved on the tip the ones before it left. A member refused on its own is
/// dropped; when the run must stop, what is left is listed. The whole group's first try carries
/// the formatting of what it touches, and `fold`'s; the numbers of `fold`'s findings that landed
/// with it.
fn land(
    run: &mut Run<'_>,
    path: &mut ChangePath,
    refactorer: &mut dyn Refactorer,
    index: &Index,
    (formed, unformatted): (&Formed, &BTreeSet<String>),
    fold: &[(usize, Finding)],
) -> Result<Vec<usize>, ImproveError> {
    let mut landed = Vec::new();
    let mut committed = BTreeSet::new();
    // Batches of sets still to prove, the next on top: a batch's sets are proved side by side on
    // one tip (`--jobs`).
    let mut todo: Vec<Vec<Vec<usize>>> = Vec::new();
    if !formed.members.is_empty() {
        todo.push(vec![(0..formed.members.len()).collect()]);
    }
    while let Some(batch) = todo.pop() {
        let batch = unblocked(run, path, refactorer, formed, batch)?;
        if batch.is_empty() {
            continue;
        }
        if let Some(reason) = stop(run, refactorer) {
            let left = batch.into_iter().chain(todo.drain(..).flatten());
            for member in left.flatten() {
                let (candidate, _) = &formed.members[member];
                refactorer.dropped(candidate);
                let finding = finding_of(candidate).map(what).unwrap_or_default();
                run.outcome.left.push((finding, reason.clone()));
            }
            break;
        }
        let mut next = Vec::new();
        if let [set] = &batch[..] {
            let mut candidate = formed.candidate(set, &committed);
            // The whole group, on its first try, carries the formatting of the files it touches;
            // halves cut from the stack after a refusal do not (the stack does not know it).
            let formatting =
                finding_of(&candidate).is_some_and(|f| f.rule == crate::engine::RUSTFMT);
            let whole = committed.is_empty() && set.len() == formed.members.len();
            let mut folded = Vec::new();
            if run.formats && !formatting && whole {
                (candidate, folded) = with_formatting(path, &candidate, unformatted, fold)?;
            }
            // A formatting group carried whole is no candidate of its own: the count says so
            // before this one is reported, and takes it back if this one is refused.
            let carried = !folded.is_empty() && folded.len() == fold.len();
            if carried {
                run.counts.expected = run.counts.expected.saturating_sub(1);
            }
            let place = run.next_place(formed.members[set[0]].1, 0);
            match try_one(run, path, refactorer, &candidate, place, set.len())? {
                Tried::Accepted => {
                    committed.extend(set);
                    landed = folded;
                }
                Tried::Refused(refusal) => {
                    run.counts.expected += usize::from(carried);
                    let tried = (set.as_slice(), &candidate, refusal, &committed);
                    next = refused(run, path, (refactorer, index), formed, tried)?;
                }
            }
        } else {
            let tries: Vec<_> = batch
                .iter()
                .map(|set| {
                    let place = run.next_place(formed.members[set[0]].1, 0);
                    (formed.candidate(set, &committed), place, set.len())
                })
                .collect();
            let tried = try_beside(run, path, refactorer, &tries)?;
            for ((set, (candidate, _, _)), tried) in batch.iter().zip(&tries).zip(tried) {
                match tried {
                    Some(Tried::Accepted) => committed.extend(set),
                    Some(Tried::Refused(refusal)) => {
                        let tried = (set.as_slice(), candidate, refusal, &committed);
                        next.extend(refused(run, path, (refactorer, index), formed, tried)?);
                    }
                    // Overtaken: proved again on the tip the other made.
                    None => next.push(vec![set.clone()]),
                }
            }
        }
        todo.extend(next.into_iter().rev());
    }
    Ok(landed)
}

/// What follows a refused set of a group's members: one member alone is dropped (or repaired,
/// when it is alone in its group: a model's change); a larger set is split where its compile
/// errors point ([`by_errors`]), or by the feature configurations its members need
/// ([`by_needs`]), or else in halves; the parts are proved next, side by side when the path
/// allows (`--jobs`). The batches to prove next, in order.
fn refused(
    run: &mut Run<'_>,
    path: &mut ChangePath,
    (refactorer, index): (&mut dyn Refactorer, &Index),
    formed: &Formed,
    (set, candidate, refusal, committed): (&[usize], &Candidate, Refusal, &BTreeSet<usize>),
) -> Result<Vec<Vec<Vec<usize>>>, ImproveError> {
    if let [member] = set[..] {
        // A group's member may not be repaired, since the group's other members were made on it.
        let alone = formed.members.len() == 1;
        let tried = (candidate, formed.members[member].1);
        if !(alone && repaired(run, path, refactorer, index, tried, refusal.reasons)?) {
            refactorer.dropped(&formed.members[member].0);
        }
        return Ok(Vec::new());
    }
    let parts = by_errors(formed, set, committed, &refusal.errors)
        .or_else(|| by_needs(run, path, formed, set, refusal.unbuildable));
    if let Some(parts) = parts {
        run.counts.expected += parts.len();
        let jobs = path.jobs().max(1);
        return Ok(parts.chunks(jobs).map(<[_]>::to_vec).collect());
    }
    let (left, right) = set.split_at(set.len() / 2);
    run.counts.expected += 2;
    Ok(if path.jobs() > 1 {
        vec![vec![left.to_vec(), right.to_vec()]]
    } else {
        vec![vec![left.to_vec()], vec![right.to_vec()]]
    })
}

/// A set whose build failed, split into the members its compile errors point at and the rest:
/// the rest proved first, together, then the ones pointed at, which are split again if refused.
/// An error points at the member that wrote its line or, where none did (an error inside a macro
/// a fix changed, reported where the macro is used), at the members that changed its file.
/// Every member is still refused only on its own proof: an error may point at a line one member
/// wrote and another broke (an import taken away). `None` when the errors point at no member of
/// the set, or at all of them.
fn by_errors(
    formed: &Formed,
    set: &[usize],
    committed: &BTreeSet<usize>,
    errors: &[(String, usize)],
) -> Option<Vec<Vec<usize>>> {
    let applied: BTreeSet<usize> = committed.iter().chain(set).copied().collect();
    let places: Vec<(RepoPath, usize)> = errors
        .iter()
        .filter_map(|(file, line)| Some((RepoPath::new(file)?, *line)))
        .collect();
    let mut blamed: BTreeSet<usize> = places
        .iter()
        .filter_map(|(path, line)| formed.stack.blame(&applied, path, *line))
        .filter(|member| set.contains(member))
        .collect();
    if blamed.is_empty() {
        blamed = set
            .iter()
            .filter(|&&member| {
                places
                    .iter()
                    .any(|(path, _)| formed.stack.touches(member, path))
            })
            .copied()
            .collect();
    }
    if blamed.is_empty() || blamed.len() == set.len() {
        return None;
    }
    let rest = set
        .iter()
        .filter(|m| !blamed.contains(m))
        .copied()
        .collect();
    Some(vec![rest, blamed.into_iter().collect()])
}

/// A refused set that needed a feature configuration that built on neither tree (`unbuildable`),
/// split by what each member needs (the plain fixes apart from those under each feature set)
/// instead of in halves: the members that need it are then refused unproved without a build of
/// their own ([`unblocked`]), and the others are proved together. `None` where that does not
/// apply.
fn by_needs(
    run: &Run<'_>,
    path: &ChangePath,
    formed: &Formed,
    set: &[usize],
    unbuildable: bool,
) -> Option<Vec<Vec<usize>>> {
    if !unbuildable {
        return None;
    }
    let read = worktree_reader(path);
    let mut classes: Vec<(&[FeatureConfig], Vec<usize>)> = Vec::new();
    for &member in set {
        let needs = formed.needs(member, &read);
        match classes.iter_mut().find(|(class, _)| *class == needs) {
            Some((_, members)) => members.push(member),
            None => classes.push((needs, vec![member])),
        }
    }
    let blocked = |needs: &[FeatureConfig]| needs.iter().any(|c| run.unbuildable.contains(c));
    match &classes[..] {
        // One class: its members are refused before their next build, or it is halved.
        [(needs, _)] => blocked(needs).then(|| vec![set.to_vec()]),
        _ => Some(classes.into_iter().map(|(_, members)| members).collect()),
    }
}

/// `batch` without the members whose lines need a feature configuration that built on neither
/// tree earlier in the run: each is recorded as skipped, unproved, and dropped; a set left empty
/// is dropped too.
fn unblocked(
    run: &mut Run<'_>,
    path: &ChangePath,
    refactorer: &mut dyn Refactorer,
    formed: &Formed,
    batch: Vec<Vec<usize>>,
) -> Result<Vec<Vec<usize>>, ImproveError> {
    if run.unbuildable.is_empty() {
        return Ok(batch);
    }
    let read = worktree_reader(path);
    let mut kept = Vec::new();
    for set in batch {
        let mut left = Vec::new();
        for member in set {
            let (candidate, number) = &formed.members[member];
            let needs = formed.needs(member, &read);
            let blocked = needs.iter().find(|c| run.unbuildable.contains(*c));
            // A change that is not a finding's fix is proved, and refused there.
            let (Some(config), Some(finding)) = (blocked, finding_of(candidate)) else {
                left.push(member);
                continue;
            };
            refactorer.dropped(candidate);
            let reason = format!(
                "{} built on neither tree earlier in this run: nothing here compiles the changed \
                 lines that need it, so nothing proves them",
                config.describe()
            );
            let place = run.next_place(*number, 1);
            skip(run, place, finding, reason)?;
        }
        if left.is_empty() {
            run.counts.expected = run.counts.expected.saturating_sub(1);
        } else {
            kept.push(left);
        }
    }
    Ok(kept)
}

/// The validation worktree's files, as the feature analysis reads manifests and modules.
fn worktree_reader<'p>(path: &'p ChangePath) -> impl Fn(&str) -> Option<String> + 'p {
    let workspace = path.workspace();
    move |file: &str| workspace.read(&RepoPath::new(file)?)
}

impl Formed {
    /// The feature configurations member `member`'s changed lines need ([`validate::needed_features`]).
    fn needs(&self, member: usize, read: &dyn Fn(&str) -> Option<String>) -> &[FeatureConfig] {
        self.needs[member]
            .get_or_init(|| validate::needed_features(&self.members[member].0.patch, read))
    }
}

/// `candidate` (a whole group) with the files it touches formatted, but those in `skip`, and the
/// files of the formatting findings `fold` formatted as well where the guard allows each file's
/// formatting on its own (test code is left as it is); and the numbers of the findings of `fold`
/// it carries.
fn with_formatting(
    path: &mut ChangePath,
    candidate: &Candidate,
    skip: &BTreeSet<String>,
    fold: &[(usize, Finding)],
) -> Result<(Candidate, Vec<usize>), ImproveError> {
    let also: BTreeSet<RepoPath> = fold.iter().map(|(_, f)| f.path.clone()).collect();
    let mut joined = path.formatted(candidate, skip, &also)?;
    let mut kept = BTreeSet::new();
    for change in &mut joined.patch.changes {
        if !also.contains(&change.path) {
            continue;
        }
        // What the fixes left of the file, formatted.
        let fixed = match candidate
            .patch
            .changes
            .iter()
            .find(|c| c.path == change.path)
        {
            Some(fix) => fix.after.clone(),
            None => change.before.clone(),
        };
        let alone = Candidate {
            patch: Patch {
                summary: String::new(),
                changes: vec![FileChange {
                    path: change.path.clone(),
                    before: fixed.clone(),
                    after: change.after.clone(),
                }],
            },
            ..candidate.clone()
        };
        if fixed != change.after && path.guard(&alone).is_empty() {
            kept.insert(change.path.clone());
        } else {
            change.after = fixed;
        }
    }
    joined.patch.changes.retain(|c| c.before != c.after);
    let folded: Vec<&(usize, Finding)> = fold
        .iter()
        .filter(|(_, f)| kept.contains(&f.path))
        .collect();
    if folded.is_empty() {
        return Ok((joined, Vec::new()));
    }
    let mut findings = match &candidate.origin {
        Origin::Findings(findings) => findings.clone(),
        _ => finding_of(candidate).into_iter().cloned().collect(),
    };
    findings.extend(folded.iter().map(|(_, f)| f.clone()));
    joined.patch.summary = summary(&findings);
    joined.origin = Origin::Findings(findings);
    Ok((joined, folded.iter().map(|(number, _)| *number).collect()))
}

/// Hands a refused candidate (of finding number `finding`) to the refactorer's repair agent with
/// why, and tries its repair, at most `attempts` times; whether a repair was accepted.
pub(super) fn repaired(
    run: &mut Run<'_>,
    path: &mut ChangePath,
    refactorer: &mut dyn Refactorer,
    index: &Index,
    (candidate, finding): (&Candidate, usize),
    mut reasons: Vec<String>,
) -> Result<bool, ImproveError> {
    let mut current = candidate.clone();
    for _ in 0..refactorer.attempts() {
        if stop(run, refactorer).is_some() {
            break;
        }
        let mut view = TipView::of(path, index);
        let repair = refactorer.repair(&current, &reasons, &mut view);
        run.relay(refactorer)?;
        let Some(repair) = repair? else {
            break;
        };
        let place = run.next_place(finding, 1);
        if let Some(rejection) = path.guard(&repair).into_iter().next() {
            if let Some(found) = finding_of(&repair) {
                let found = found.clone();
                skip(run, place, &found, rejection.message)?;
            }
            break;
        }
        match try_one(run, path, refactorer, &repair, place, 1)? {
            Tried::Accepted => return Ok(true),
            Tried::Refused(refusal) => reasons = refusal.reasons,
        }
        current = repair;
    }
    Ok(false)
}

impl Formed {
    /// Members `set` as one candidate on the tip members `committed` left.
    fn candidate(&self, set: &[usize], committed: &BTreeSet<usize>) -> Candidate {
        let ids: BTreeSet<usize> = set.iter().copied().collect();
        let (first, _) = &self.members[set[0]];
        if let [_] = set {
            return Candidate {
                patch: self.stack.patch(&first.patch.summary, committed, &ids),
                ..first.clone()
            };
        }
        let findings: Vec<Finding> = set
            .iter()
            .filter_map(|&m| finding_of(&self.members[m].0).cloned())
            .collect();
        // Fixes by several owners (a repository's domain agents) are their joint change.
        let mut authors: Vec<&AgentPolicy> = Vec::new();
        for &m in set {
            if let Author::Agent(policy) = &self.members[m].0.author
                && !authors.iter().any(|a| a.name == policy.name)
            {
                authors.push(policy);
            }
        }
        let author = match AgentPolicy::joint(&authors) {
            Some(joint) if authors.len() > 1 => Author::Agent(joint),
            _ => first.author.clone(),
        };
        Candidate {
            patch: self.stack.patch(&summary(&findings), committed, &ids),
            author,
            origin: Origin::Findings(findings),
            message: None,
        }
    }
}

/// One line for a group: its rule (or how many rules), how many places, and where.
fn summary(findings: &[Finding]) -> String {
    let rules: BTreeSet<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    let files: BTreeSet<&str> = findings.iter().map(|f| f.path.as_str()).collect();
    let place = match files.len() {
        1..=2 => files.into_iter().collect::<Vec<_>>().join(", "),
        n => format!("{n} files"),
    };
    match rules.len() {
        1 => {
            let rule = rules.first().copied().unwrap_or_default();
            format!("Fix `{rule}` in {} places ({place})", findings.len())
        }
        n => format!("Fix {} findings of {n} rules ({place})", findings.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, path: &str) -> Finding {
        Finding {
            rule: rule.to_owned(),
            group: None,
            agent: String::from("reviewer"),
            path: crate::edit::RepoPath::new(path).expect("path"),
            span: crate::findings::Span {
                line_start: 1,
                column_start: 1,
                line_end: 1,
                column_end: 2,
                byte_start: 0,
                byte_end: 1,
            },
            symbol: None,
            severity: crate::findings::Severity::Warning,
            message: String::from("m"),
            fix: Some(if rule == crate::engine::RUSTFMT {
                crate::findings::Fix::Format
            } else {
                crate::findings::Fix::Replace(Vec::new())
            }),
            fingerprint: String::new(),
        }
    }

    #[test]
    fn groups_keep_the_order_rules_first_appear_in() {
        let candidates: Vec<(usize, Finding)> = [
            ("b", "x.rs"),
            ("a", "x.rs"),
            ("b", "y.rs"),
            ("rustfmt", "x.rs"),
        ]
        .iter()
        .enumerate()
        .map(|(i, (rule, path))| (i, finding(rule, path)))
        .collect();
        let rules = |groups: Vec<Vec<(usize, Finding)>>| -> Vec<Vec<usize>> {
            groups
                .into_iter()
                .map(|g| g.into_iter().map(|(i, _)| i).collect())
                .collect()
        };
        assert_eq!(
            rules(plan(candidates.clone(), Grouping::Rule)),
            [vec![0, 2], vec![1], vec![3]]
        );
        assert_eq!(
            rules(plan(candidates.clone(), Grouping::Pass)),
            [vec![0, 1, 2], vec![3]]
        );
        assert_eq!(
            rules(plan(candidates.clone(), Grouping::Single)),
            [vec![0], vec![1], vec![2], vec![3]]
        );
        // What has no machine fix (a model's work) is always alone.
        let mut unfixed = candidates;
        unfixed[2].1.fix = None;
        assert_eq!(
            rules(plan(unfixed, Grouping::Rule)),
            [vec![0], vec![1], vec![2], vec![3]]
        );
        let many = [
            finding("r", "a.rs"),
            finding("r", "a.rs"),
            finding("r", "b.rs"),
        ];
        assert_eq!(summary(&many), "Fix `r` in 3 places (a.rs, b.rs)");
        let mixed = [
            finding("r", "a.rs"),
            finding("s", "b.rs"),
            finding("s", "c.rs"),
        ];
        assert_eq!(summary(&mixed), "Fix 3 findings of 2 rules (3 files)");
    }
}
