//! What a run does next, decided from its steps' definitions and states alone (no I/O): which
//! steps start (in definition order, up to the free slots), which gates open, which steps are
//! skipped and why, what a step's end means (done, or another attempt), what cancelling stops,
//! what a rerun from the failed step keeps, and the run's outcome once nothing is left to do.
//! The executor applies these decisions; this file is where the rules live and are tested.

use crate::models::pipelines::{RunState, Step, StepState, TriggerKind};

/// One decision about one step (its index in the run's snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start its command.
    Start(usize),
    /// Open its gate: wait for a person.
    Wait(usize),
    /// Do not run it, for this reason.
    Skip(usize, String),
}

/// Whether step `i`'s dependencies let it go ahead: `Some(true)` when each succeeded (or failed
/// but allows failure), `Some(false)` when one ended otherwise (the step will never run),
/// `None` while one is not over.
fn dependencies(steps: &[Step], states: &[StepState], i: usize) -> Option<Result<(), String>> {
    let mut blocked = None;
    for dep in &steps[i].depends_on {
        let Some(j) = steps.iter().position(|s| &s.name == dep) else {
            return Some(Err(format!("`{dep}` is not a step of this run")));
        };
        match states[j] {
            StepState::Succeeded => {}
            StepState::Failed if steps[j].allow_failure => {}
            StepState::Failed => blocked = blocked.or(Some(format!("`{dep}` failed"))),
            StepState::Skipped => blocked = blocked.or(Some(format!("`{dep}` was skipped"))),
            StepState::Cancelled => blocked = blocked.or(Some(format!("`{dep}` was cancelled"))),
            StepState::Pending | StepState::Running | StepState::Waiting => return None,
        }
    }
    Some(blocked.map_or(Ok(()), Err))
}

/// The next decisions for a run started by `trigger` on `branch`, with `free` command slots on
/// this host. Skips cascade within one call (a skipped step's dependents are skipped too); gates
/// need no slot.
pub fn next(
    steps: &[Step],
    states: &[StepState],
    trigger: TriggerKind,
    branch: Option<&str>,
    free: usize,
) -> Vec<Action> {
    let mut states = states.to_vec();
    let mut actions = Vec::new();
    let mut free = free;
    loop {
        let mut changed = false;
        for i in 0..steps.len() {
            if states[i] != StepState::Pending {
                continue;
            }
            if !steps[i].when.allows(trigger, branch) {
                states[i] = StepState::Skipped;
                actions.push(Action::Skip(
                    i,
                    format!(
                        "its condition does not match this run ({}{})",
                        trigger.as_str(),
                        branch.map(|b| format!(" on {b}")).unwrap_or_default()
                    ),
                ));
                changed = true;
                continue;
            }
            match dependencies(steps, &states, i) {
                None => {}
                Some(Err(why)) => {
                    states[i] = StepState::Skipped;
                    actions.push(Action::Skip(i, why));
                    changed = true;
                }
                Some(Ok(())) if steps[i].approval.is_some() => {
                    states[i] = StepState::Waiting;
                    actions.push(Action::Wait(i));
                    changed = true;
                }
                Some(Ok(())) if free > 0 => {
                    free -= 1;
                    states[i] = StepState::Running;
                    actions.push(Action::Start(i));
                }
                Some(Ok(())) => {}
            }
        }
        if !changed {
            return actions;
        }
    }
}

/// What a step's attempt ending means: `Ok(state)` when the step is over, `Err(next attempt)`
/// when it runs again. `exit_code` is `None` when it was killed or timed out.
pub fn after_attempt(step: &Step, attempt: u32, exit_code: Option<i32>) -> Result<StepState, u32> {
    if exit_code == Some(0) {
        Ok(StepState::Succeeded)
    } else if step.retry.again(attempt, exit_code) {
        Err(attempt + 1)
    } else {
        Ok(StepState::Failed)
    }
}

/// The run's state from its steps': `None` while something is pending, running or waiting.
pub fn outcome(steps: &[Step], states: &[StepState]) -> Option<RunState> {
    if states.iter().any(|s| !s.is_final()) {
        return None;
    }
    let failed = steps
        .iter()
        .zip(states)
        .any(|(step, s)| *s == StepState::Failed && !step.allow_failure);
    Some(if states.contains(&StepState::Cancelled) {
        RunState::Cancelled
    } else if failed {
        RunState::Failed
    } else {
        RunState::Succeeded
    })
}

/// While steps are active: `Waiting` when only gates are, else `Running`.
pub fn active_state(states: &[StepState]) -> RunState {
    if states.contains(&StepState::Running) || !states.contains(&StepState::Waiting) {
        RunState::Running
    } else {
        RunState::Waiting
    }
}

/// Cancelling a run: the running steps to stop (their whole process trees), and every step
/// that is not over becomes cancelled.
pub fn cancel(states: &[StepState]) -> (Vec<usize>, Vec<StepState>) {
    let stop = (0..states.len())
        .filter(|&i| states[i] == StepState::Running)
        .collect();
    let after = states
        .iter()
        .map(|s| {
            if s.is_final() {
                *s
            } else {
                StepState::Cancelled
            }
        })
        .collect();
    (stop, after)
}

/// A rerun from the failed step: which steps of the earlier run are kept as they ended (they
/// succeeded, and so did everything they depend on), the rest start over as pending.
pub fn rerun_from_failed(steps: &[Step], states: &[StepState]) -> Vec<StepState> {
    let mut keep: Vec<bool> = states.iter().map(|s| *s == StepState::Succeeded).collect();
    // A kept step whose dependency starts over starts over too (its inputs change); repeat
    // until nothing changes (dependencies may come later in the list).
    loop {
        let mut changed = false;
        for i in 0..steps.len() {
            if keep[i]
                && steps[i].depends_on.iter().any(|d| {
                    steps
                        .iter()
                        .position(|s| &s.name == d)
                        .is_none_or(|j| !keep[j])
                })
            {
                keep[i] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    keep.into_iter()
        .map(|k| {
            if k {
                StepState::Succeeded
            } else {
                StepState::Pending
            }
        })
        .collect()
}

/// A gate without `timeout_secs` waits this long (a day).
pub const GATE_TIMEOUT_SECS: u64 = 86_400;

/// When gate `i` of `def`, opened at `opened`, stops waiting (and fails); `None` for a step
/// that is not a gate, or a gate not opened.
pub fn gate_expiry(
    def: &crate::models::pipelines::PipelineDefinition,
    i: usize,
    opened: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let approval = def.steps.get(i)?.approval.as_ref()?;
    let secs = approval.timeout_secs.unwrap_or(GATE_TIMEOUT_SECS);
    Some(opened? + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 2000)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::pipelines::{Approval, Condition, Retry};
    use StepState::*;

    fn step(name: &str, deps: &[&str]) -> Step {
        let mut s = Step::command(name, "true");
        s.depends_on = deps.iter().map(|d| (*d).to_owned()).collect();
        s
    }

    fn gate(name: &str, deps: &[&str]) -> Step {
        let mut s = step(name, deps);
        s.command = None;
        s.approval = Some(Approval {
            min_role: crate::models::Role::Operator,
            not_triggerer: false,
            timeout_secs: None,
            prompt: String::new(),
        });
        s
    }

    /// build, lint (allowed to fail) → test → approve (gate) → ship
    fn release() -> Vec<Step> {
        let mut lint = step("lint", &[]);
        lint.allow_failure = true;
        vec![
            step("build", &[]),
            lint,
            step("test", &["build", "lint"]),
            gate("approve", &["test"]),
            step("ship", &["approve"]),
        ]
    }

    #[test]
    fn independent_steps_start_together_up_to_the_free_slots() {
        let steps = release();
        let start = [Pending; 5];
        assert_eq!(
            next(&steps, &start, TriggerKind::Manual, None, 4),
            [Action::Start(0), Action::Start(1)]
        );
        assert_eq!(
            next(&steps, &start, TriggerKind::Manual, None, 1),
            [Action::Start(0)]
        );
        assert!(next(&steps, &start, TriggerKind::Manual, None, 0).is_empty());
    }

    #[test]
    fn a_failure_allowed_to_fail_lets_dependents_run_and_a_gate_waits() {
        let steps = release();
        let states = [Succeeded, Failed, Pending, Pending, Pending];
        assert_eq!(
            next(&steps, &states, TriggerKind::Manual, None, 4),
            [Action::Start(2)]
        );
        let states = [Succeeded, Failed, Succeeded, Pending, Pending];
        assert_eq!(
            next(&steps, &states, TriggerKind::Manual, None, 0),
            [Action::Wait(3)],
            "a gate needs no slot"
        );
        assert_eq!(
            active_state(&[Succeeded, Failed, Succeeded, Waiting, Pending]),
            RunState::Waiting
        );
        assert_eq!(
            outcome(
                &steps,
                &[Succeeded, Failed, Succeeded, Succeeded, Succeeded]
            ),
            Some(RunState::Succeeded),
            "lint may fail"
        );
    }

    #[test]
    fn a_failed_step_skips_its_dependents_all_the_way_down() {
        let steps = release();
        let states = [Failed, Succeeded, Pending, Pending, Pending];
        let actions = next(&steps, &states, TriggerKind::Manual, None, 4);
        assert_eq!(
            actions,
            [
                Action::Skip(2, "`build` failed".into()),
                Action::Skip(3, "`test` was skipped".into()),
                Action::Skip(4, "`approve` was skipped".into()),
            ]
        );
        assert_eq!(
            outcome(&steps, &[Failed, Succeeded, Skipped, Skipped, Skipped]),
            Some(RunState::Failed)
        );
        assert_eq!(
            outcome(&steps, &[Failed, Running, Pending, Pending, Pending]),
            None
        );
    }

    #[test]
    fn conditions_skip_by_trigger_and_branch() {
        let mut ship = step("ship", &[]);
        ship.when = Condition {
            triggers: vec![TriggerKind::Git],
            branches: vec!["main".into()],
        };
        let steps = [ship];
        assert!(matches!(
            next(&steps, &[Pending], TriggerKind::Git, Some("dev"), 1).as_slice(),
            [Action::Skip(0, why)] if why.contains("git on dev")
        ));
        assert_eq!(
            next(&steps, &[Pending], TriggerKind::Git, Some("main"), 1),
            [Action::Start(0)]
        );
        assert_eq!(
            outcome(&steps, &[Skipped]),
            Some(RunState::Succeeded),
            "a run whose steps were all skipped by condition did nothing wrong"
        );
    }

    #[test]
    fn retries_follow_the_step_and_end_in_failure() {
        let mut flaky = step("flaky", &[]);
        flaky.retry = Retry {
            count: 2,
            on_exit_codes: vec![],
        };
        assert_eq!(after_attempt(&flaky, 1, Some(1)), Err(2));
        assert_eq!(
            after_attempt(&flaky, 2, None),
            Err(3),
            "a timeout is retried"
        );
        assert_eq!(after_attempt(&flaky, 3, Some(1)), Ok(Failed));
        assert_eq!(after_attempt(&flaky, 1, Some(0)), Ok(Succeeded));
    }

    #[test]
    fn cancelling_stops_what_runs_and_ends_what_waits() {
        let (stop, after) = cancel(&[Succeeded, Running, Running, Waiting, Pending]);
        assert_eq!(stop, [1, 2]);
        assert_eq!(
            after,
            [Succeeded, Cancelled, Cancelled, Cancelled, Cancelled]
        );
        assert_eq!(outcome(&release(), &after), Some(RunState::Cancelled));
    }

    #[test]
    fn a_rerun_from_the_failed_step_keeps_what_succeeded_upstream_only() {
        let steps = release();
        // test failed: build and lint are kept, test and everything after start over.
        let rerun = rerun_from_failed(&steps, &[Succeeded, Succeeded, Failed, Skipped, Skipped]);
        assert_eq!(rerun, [Succeeded, Succeeded, Pending, Pending, Pending]);
        // Dependencies listed after their dependents are followed too.
        let steps = [step("b", &["a"]), step("a", &[])];
        assert_eq!(
            rerun_from_failed(&steps, &[Succeeded, Failed]),
            [Pending, Pending]
        );
    }
}
