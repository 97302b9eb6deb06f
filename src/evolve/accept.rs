//! Whether a variant is better than its parent: a paired comparison on the same tasks under the
//! same evaluator. Each task gives the difference of the two solve rates (over repeats, when a
//! task was run more than once); the tasks where they differ are the evidence. The variant is
//! accepted only when the one-sided 95% lower confidence bound of its chance of winning a task
//! where the two differ (Clopper-Pearson, the exact bound for counts) is above one half: a gain
//! whose lower bound is above zero. A tie, or a gain that a few noisy tasks could explain, is not
//! accepted.

use serde::{Deserialize, Serialize};

/// One task's outcomes for the parent and the variant, one per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paired {
    pub task: String,
    pub parent: Vec<bool>,
    pub variant: Vec<bool>,
}

impl Paired {
    /// The variant's solve rate less the parent's, in [-1, 1].
    pub fn difference(&self) -> f64 {
        rate(&self.variant) - rate(&self.parent)
    }

    /// Whether either side gave different outcomes on different runs.
    pub fn noisy(&self) -> bool {
        let mixed = |runs: &[bool]| runs.iter().any(|&r| r) && runs.iter().any(|&r| !r);
        mixed(&self.parent) || mixed(&self.variant)
    }
}

fn rate(runs: &[bool]) -> f64 {
    if runs.is_empty() {
        return 0.0;
    }
    runs.iter().filter(|&&r| r).count() as f64 / runs.len() as f64
}

/// The confidence of the bound: one-sided, 95%.
pub const ALPHA: f64 = 0.05;

/// What the comparison decided, and on what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub accepted: bool,
    /// Tasks compared.
    pub tasks: usize,
    /// Tasks the variant did better on, and worse.
    pub wins: usize,
    pub losses: usize,
    /// The mean difference of solve rates per task.
    pub gain: f64,
    /// The lower confidence bound of that gain: the bound on winning a differing task, as a gain
    /// over all tasks (`(2p - 1) × differing / tasks`).
    pub lower: f64,
    /// Tasks whose runs disagreed with each other: worth running again.
    pub noisy: Vec<String>,
}

/// Compares a variant with its parent on `pairs`.
pub fn decide(pairs: &[Paired]) -> Decision {
    let wins = pairs.iter().filter(|p| p.difference() > 0.0).count();
    let losses = pairs.iter().filter(|p| p.difference() < 0.0).count();
    let tasks = pairs.len();
    let gain = if tasks == 0 {
        0.0
    } else {
        pairs.iter().map(Paired::difference).sum::<f64>() / tasks as f64
    };
    let differing = wins + losses;
    let p = lower_bound(wins, differing, ALPHA);
    let lower = if tasks == 0 {
        0.0
    } else {
        (2.0 * p - 1.0) * differing as f64 / tasks as f64
    };
    Decision {
        accepted: differing > 0 && p > 0.5,
        tasks,
        wins,
        losses,
        gain,
        lower,
        noisy: pairs
            .iter()
            .filter(|p| p.noisy())
            .map(|p| p.task.clone())
            .collect(),
    }
}

/// Whether a variant that did this on the first tasks of a staged evaluation may go on to the
/// rest: it is not worse on them.
pub fn worth_going_on(pairs: &[Paired]) -> bool {
    let wins = pairs.iter().filter(|p| p.difference() > 0.0).count();
    let losses = pairs.iter().filter(|p| p.difference() < 0.0).count();
    wins >= losses
}

/// The Clopper-Pearson one-sided lower bound, at level `alpha`, of the chance of success after
/// `successes` in `trials`: the chance at which `successes` or more happen with probability
/// `alpha`. Zero for no successes.
pub fn lower_bound(successes: usize, trials: usize, alpha: f64) -> f64 {
    if successes == 0 || trials == 0 {
        return 0.0;
    }
    // P(X >= successes) grows with the chance: bisect for where it reaches alpha.
    let (mut low, mut high) = (0.0_f64, 1.0_f64);
    for _ in 0..100 {
        let mid = (low + high) / 2.0;
        if at_least(successes, trials, mid) < alpha {
            low = mid;
        } else {
            high = mid;
        }
    }
    low
}

/// P(X >= k) for X ~ Binomial(n, p), summed in logs (n up to thousands).
fn at_least(k: usize, n: usize, p: f64) -> f64 {
    if p <= 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    if p >= 1.0 {
        return 1.0;
    }
    let ln_choose =
        |n: usize, i: usize| -> f64 { ln_factorial(n) - ln_factorial(i) - ln_factorial(n - i) };
    (k..=n)
        .map(|i| (ln_choose(n, i) + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp())
        .sum::<f64>()
        .min(1.0)
}

fn ln_factorial(n: usize) -> f64 {
    (2..=n).map(|i| (i as f64).ln()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(outcomes: &[(bool, bool)]) -> Vec<Paired> {
        outcomes
            .iter()
            .enumerate()
            .map(|(i, &(parent, variant))| Paired {
                task: format!("t{i}"),
                parent: vec![parent],
                variant: vec![variant],
            })
            .collect()
    }

    #[test]
    fn the_bound_is_clopper_pearsons() {
        // Known values: 5 of 5 at 95% one-sided is 0.05^(1/5); 0 of n is 0.
        assert!((lower_bound(5, 5, 0.05) - 0.05_f64.powf(0.2)).abs() < 1e-9);
        assert_eq!(lower_bound(0, 7, 0.05), 0.0);
        // 8 of 10: 0.4931 (one-sided 95%, as tables give it).
        assert!((lower_bound(8, 10, 0.05) - 0.4931).abs() < 1e-3);
    }

    #[test]
    fn a_noisy_tie_is_rejected() {
        let mut outcomes = vec![(true, false), (false, true)];
        outcomes = outcomes.repeat(4);
        outcomes.extend([(true, true), (false, false)]);
        let decision = decide(&pairs(&outcomes));
        assert!(!decision.accepted, "{decision:?}");
        assert_eq!((decision.wins, decision.losses), (4, 4));
        assert!(decision.gain.abs() < 1e-12 && decision.lower < 0.0);
    }

    #[test]
    fn a_real_gain_is_accepted_and_a_small_one_is_not() {
        let mut outcomes = vec![(false, true); 8];
        outcomes.extend([(true, true), (false, false), (true, true), (false, false)]);
        let decision = decide(&pairs(&outcomes));
        assert!(decision.accepted && decision.lower > 0.0, "{decision:?}");
        assert!((decision.gain - 8.0 / 12.0).abs() < 1e-12);
        // Three wins and no loss could be luck: 0.5^3 > 0.05.
        let few = decide(&pairs(&[
            (false, true),
            (false, true),
            (false, true),
            (true, true),
        ]));
        assert!(!few.accepted, "{few:?}");
        // Five wins and one loss is not enough either; nine and one is.
        let mut five = vec![(false, true); 5];
        five.push((true, false));
        assert!(!decide(&pairs(&five)).accepted);
        let mut nine = vec![(false, true); 9];
        nine.push((true, false));
        assert!(decide(&pairs(&nine)).accepted);
        assert!(!decide(&[]).accepted);
    }

    #[test]
    fn repeats_give_rates_and_name_the_noisy_tasks() {
        let pair = Paired {
            task: String::from("t"),
            parent: vec![false, false],
            variant: vec![true, false],
        };
        assert!((pair.difference() - 0.5).abs() < 1e-12);
        assert!(pair.noisy());
        let decision = decide(&[pair]);
        assert_eq!(decision.wins, 1);
        assert_eq!(decision.noisy, ["t"]);
        assert!(worth_going_on(&pairs(&[
            (true, true),
            (false, true),
            (true, false)
        ])));
        assert!(!worth_going_on(&pairs(&[(true, false), (true, true)])));
    }
}
