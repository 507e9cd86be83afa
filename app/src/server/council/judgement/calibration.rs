//! Calibration: the confidence the council reports is a logistic map of what the vote itself
//! shows — its raw confidence (agreement × the supporters' confidence), how much the evidence
//! pulls both ways, its strongest signal and how far it leans —
//! fitted so that it says how often such a call is right.
//!
//! [`SHIPPED`] was fitted on the labelled situations (`situations.json`, by the benchmark
//! `scripts/bench-council-judgement.sh`); [`refit`] refits it whenever an outcome is recorded
//! (by hand or by a deployment), pulled toward the shipped fit so that a handful of outcomes
//! cannot swing it, and stores it for every instance.

use crate::models::council::{CalibrationInfo, DEFAULT_OPTIONS};
use crate::models::Operation;
use crate::server::caller::Caller;
use crate::server::council::repo::{calibration as repo, deliberations};
use crate::server::error::ServerResult;
use crate::server::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

/// What the map reads of a deliberation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Features {
    /// The vote's own confidence, 0–1.
    pub raw: f64,
    /// How much the evidence pulls both ways, 0–1.
    pub conflict: f64,
    /// The strongest signal's weight, 0–1.5.
    pub strongest: f64,
    /// How far the evidence leans one way.
    pub net: f64,
}

/// How many weights the map has.
pub const N: usize = 5;

impl Features {
    /// The features of a vote with this raw confidence on evidence read as `frame`.
    pub fn of(raw: f64, frame: &super::Frame) -> Features {
        Features {
            raw,
            conflict: frame.conflict,
            strongest: frame.strongest,
            net: frame.net,
        }
    }

    fn x(&self) -> [f64; N] {
        let raw = self.raw.clamp(0.02, 0.98);
        [
            1.0,
            (raw / (1.0 - raw)).ln(),
            self.conflict,
            self.strongest,
            self.net.min(3.0),
        ]
    }
}

/// The map's weights: intercept, log-odds of the raw confidence, conflict, strongest, net.
/// (Coverage is not in the map: fitted, it took a negative weight — with the vote's own
/// confidence held fixed, more of the wanted evidence made a call no more often right — so
/// missing evidence lowers confidence through each persona's own confidence instead.)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params(pub [f64; N]);

/// Fitted on the labelled situations (see the module's documentation): the printout of
/// `judgement::bench` ("refit weights"), rounded.
pub const SHIPPED: Params = Params([1.423, 2.486, -2.660, -0.465, 1.542]);

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Params {
    /// The calibrated confidence, 0.05–0.97.
    pub fn apply(&self, f: &Features) -> f64 {
        let x = f.x();
        let z: f64 = self.0.iter().zip(x).map(|(w, x)| w * x).sum();
        sigmoid(z).clamp(0.05, 0.97)
    }
}

/// One labelled call: its features and how right it was (1 right, 0 wrong; in between for a
/// case where reasonable judges split).
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// What the map reads.
    pub features: Features,
    /// How right the call was, 0–1.
    pub target: f64,
}

/// Logistic regression by Newton's method, with a pull of `strength` toward `prior` (a
/// Gaussian prior on the weights): with few samples the prior dominates.
pub fn fit(samples: &[Sample], prior: Params, strength: f64) -> Params {
    let mut w = prior.0;
    for _ in 0..50 {
        let mut grad = [0.0; N];
        let mut hess = [[0.0; N]; N];
        for s in samples {
            let x = s.features.x();
            let p = sigmoid(w.iter().zip(x).map(|(w, x)| w * x).sum());
            for i in 0..N {
                grad[i] += (p - s.target) * x[i];
                for j in 0..N {
                    hess[i][j] += p * (1.0 - p) * x[i] * x[j];
                }
            }
        }
        for i in 0..N {
            grad[i] += strength * (w[i] - prior.0[i]);
            hess[i][i] += strength;
        }
        let Some(step) = solve(hess, grad) else {
            break;
        };
        let mut moved = 0.0f64;
        for i in 0..N {
            w[i] -= step[i];
            moved = moved.max(step[i].abs());
        }
        if moved < 1e-9 {
            break;
        }
    }
    Params(w)
}

/// Solves `a · x = b` by Gaussian elimination with partial pivoting.
fn solve(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col];
        for row in col + 1..N {
            let f = a[row][col] / pivot_row[col];
            for (x, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; N];
    for row in (0..N).rev() {
        let tail: f64 = (row + 1..N).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    Some(x)
}

/// The Brier score of confidences against how right the calls were (lower is better).
pub fn brier(pairs: &[(f64, f64)]) -> f64 {
    if pairs.is_empty() {
        return 0.0;
    }
    pairs.iter().map(|(p, y)| (p - y).powi(2)).sum::<f64>() / pairs.len() as f64
}

/// How strongly the shipped fit holds against recorded outcomes (a ridge penalty toward it; with
/// the features unscaled, it outweighs a few dozen outcomes).
const PRIOR_STRENGTH: f64 = 20.0;

/// At most this many recorded outcomes, the newest, are refitted on.
const OUTCOMES: u64 = 2000;

/// The weights in use: the last refit, else [`SHIPPED`]. A stored value that cannot be read
/// falls back to the shipped weights (and says so in the log): confidence is never refused.
pub async fn current(db: &impl ConnectionTrait) -> Result<Params, DbErr> {
    let Some(row) = repo::load(db).await? else {
        return Ok(SHIPPED);
    };
    match serde_json::from_str::<[f64; N]>(&row.weights) {
        Ok(w) if w.iter().all(|x| x.is_finite()) => Ok(Params(w)),
        _ => {
            tracing::warn!("council_calibration holds unreadable weights; using the shipped ones");
            Ok(SHIPPED)
        }
    }
}

/// The calibration in use, for anyone who may read the council.
pub async fn info(state: &AppState, caller: &Caller) -> ServerResult<CalibrationInfo> {
    caller.authorize(Operation::ReadCouncil)?;
    let row = repo::load(&state.db).await?;
    Ok(CalibrationInfo {
        weights: current(&state.db).await?.0.to_vec(),
        shipped: SHIPPED.0.to_vec(),
        samples: row
            .as_ref()
            .map_or(0, |r| u32::try_from(r.samples).unwrap_or(0)),
        updated_at: row.map(|r| r.updated_at),
    })
}

/// Refits the weights on the recorded outcomes of deliberations that kept their features
/// (a call is right when the outcome is the option the council chose), and stores them.
pub async fn refit(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Params, DbErr> {
    let decided = deliberations::decided(db, OUTCOMES).await?;
    let samples: Vec<Sample> = decided
        .iter()
        .filter_map(|d| {
            let c = deliberations::consensus(d).ok()??;
            let chosen = c.option.as_deref()?;
            let outcome = d.outcome.as_deref()?;
            // On the default scale a call is right when it falls on the same side of the line
            // between acting and holding back (a deployment records `proceed` or `reject`, the
            // council often says `proceed_with_conditions`); elsewhere the option must match.
            let default = deliberations::options(d)
                .ok()?
                .iter()
                .map(|o| o.id.as_str())
                .eq(DEFAULT_OPTIONS.iter().map(|(id, _)| *id));
            let acts = |o: &str| matches!(o, "proceed" | "proceed_with_conditions");
            let right = if default {
                acts(chosen) == acts(outcome)
            } else {
                chosen == outcome
            };
            Some(Sample {
                features: Features {
                    raw: c.raw_confidence?,
                    conflict: c.conflict?,
                    strongest: c.strongest?,
                    net: c.net?,
                },
                target: f64::from(u8::from(right)),
            })
        })
        .collect();
    let params = fit(&samples, SHIPPED, PRIOR_STRENGTH);
    let weights = serde_json::to_string(&params.0).unwrap_or_else(|_| "[0,1,0,0,0]".to_owned());
    repo::save(
        db,
        weights,
        i32::try_from(samples.len()).unwrap_or(i32::MAX),
        now,
    )
    .await?;
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fit_learns_that_a_weak_vote_is_right_less_often_and_the_prior_holds_with_few_samples() {
        // Strong votes are right 9 times in 10, weak ones 5 in 10.
        let mut samples = Vec::new();
        for i in 0..100 {
            let strong = i % 2 == 0;
            let right = if strong { i % 20 != 0 } else { i % 4 == 1 };
            samples.push(Sample {
                features: Features {
                    raw: if strong { 0.6 } else { 0.3 },
                    conflict: 0.0,
                    strongest: 0.5,
                    net: 0.5,
                },
                target: f64::from(u8::from(right)),
            });
        }
        let p = fit(&samples, SHIPPED, 0.01);
        let at = |raw| {
            p.apply(&Features {
                raw,
                conflict: 0.0,
                strongest: 0.5,
                net: 0.5,
            })
        };
        assert!((at(0.6) - 0.9).abs() < 0.03, "{}", at(0.6));
        assert!((at(0.3) - 0.5).abs() < 0.05, "{}", at(0.3));
        let few = fit(&samples[..2], SHIPPED, 50.0);
        assert!((few.0[1] - SHIPPED.0[1]).abs() < 0.1, "{few:?}");
        assert!(brier(&[(0.9, 1.0), (0.2, 0.0)]) < 0.03);
    }
}
