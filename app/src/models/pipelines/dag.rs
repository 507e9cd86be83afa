//! The order steps run in: levels of a DAG, where a step's dependencies are all in earlier
//! levels. A cycle is named step by step.

use super::Step;
use std::collections::{BTreeMap, BTreeSet};

/// Why a pipeline's steps do not form a DAG; indexes are positions in the step list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DagError {
    /// Two steps share a name.
    Duplicate {
        /// The second of them.
        index: usize,
        /// The name.
        name: String,
    },
    /// `depends_on` names no step of the pipeline.
    Unknown {
        /// The step that names it.
        index: usize,
        /// The name.
        name: String,
    },
    /// A step depends on itself.
    OnItself {
        /// The step.
        index: usize,
    },
    /// Steps that wait for each other, in order: each depends on the next, the last on the
    /// first.
    Cycle(Vec<String>),
}

impl DagError {
    /// The field at fault, as an API error names it.
    pub fn field(&self) -> String {
        match self {
            Self::Duplicate { index, .. } => format!("steps[{index}].name"),
            Self::Unknown { index, .. } | Self::OnItself { index } => {
                format!("steps[{index}].depends_on")
            }
            Self::Cycle(_) => "steps".to_owned(),
        }
    }
}

impl std::fmt::Display for DagError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Duplicate { name, .. } => write!(f, "another step is already named `{name}`"),
            Self::Unknown { name, .. } => write!(f, "names `{name}`, which is not a step here"),
            Self::OnItself { .. } => write!(f, "a step cannot depend on itself"),
            Self::Cycle(names) => {
                let mut path = names.join(" → ");
                if let Some(first) = names.first() {
                    path.push_str(" → ");
                    path.push_str(first);
                }
                write!(f, "the steps wait for each other in a cycle: {path}")
            }
        }
    }
}

/// The steps in levels (indexes into `steps`): every step's dependencies are in earlier levels,
/// and each level is in definition order.
pub fn levels(steps: &[Step]) -> Result<Vec<Vec<usize>>, DagError> {
    let mut index = BTreeMap::new();
    for (i, s) in steps.iter().enumerate() {
        if index.insert(s.name.as_str(), i).is_some() {
            return Err(DagError::Duplicate {
                index: i,
                name: s.name.clone(),
            });
        }
    }
    let mut needs: Vec<BTreeSet<usize>> = Vec::with_capacity(steps.len());
    for (i, s) in steps.iter().enumerate() {
        let mut deps = BTreeSet::new();
        for d in &s.depends_on {
            let Some(&j) = index.get(d.as_str()) else {
                return Err(DagError::Unknown {
                    index: i,
                    name: d.clone(),
                });
            };
            if j == i {
                return Err(DagError::OnItself { index: i });
            }
            deps.insert(j);
        }
        needs.push(deps);
    }
    let mut placed = vec![false; steps.len()];
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut left = steps.len();
    while left > 0 {
        let level: Vec<usize> = (0..steps.len())
            .filter(|&i| !placed[i] && needs[i].iter().all(|&j| placed[j]))
            .collect();
        if level.is_empty() {
            return Err(DagError::Cycle(cycle(steps, &needs, &placed)));
        }
        for &i in &level {
            placed[i] = true;
        }
        left -= level.len();
        out.push(level);
    }
    Ok(out)
}

/// A cycle among the steps not placed: from the first of them, follow unplaced dependencies
/// until a step repeats; the loop from its first visit is the cycle.
fn cycle(steps: &[Step], needs: &[BTreeSet<usize>], placed: &[bool]) -> Vec<String> {
    let Some(start) = (0..steps.len()).find(|&i| !placed[i]) else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut at = start;
    loop {
        // Every unplaced step waits for at least one other unplaced step.
        let Some(&next) = needs[at].iter().find(|&&j| !placed[j]) else {
            return Vec::new();
        };
        if let Some(pos) = path.iter().position(|&p| p == next) {
            return path[pos..].iter().map(|&i| steps[i].name.clone()).collect();
        }
        path.push(next);
        at = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, deps: &[&str]) -> Step {
        let mut s = Step::command(name, "true");
        s.depends_on = deps.iter().map(|d| (*d).to_owned()).collect();
        s
    }

    #[test]
    fn independent_steps_share_a_level_and_dependents_follow() {
        let steps = [
            step("lint", &[]),
            step("test", &[]),
            step("build", &["lint", "test"]),
            step("ship", &["build"]),
            step("docs", &["lint"]),
        ];
        assert_eq!(levels(&steps), Ok(vec![vec![0, 1], vec![2, 4], vec![3]]));
    }

    #[test]
    fn a_cycle_is_named_in_order() {
        let steps = [
            step("a", &[]),
            step("b", &["d"]),
            step("c", &["b"]),
            step("d", &["c"]),
        ];
        let err = levels(&steps).err();
        assert_eq!(
            err,
            Some(DagError::Cycle(vec!["b".into(), "d".into(), "c".into()]))
        );
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("the steps wait for each other in a cycle: b → d → c → b")
        );
    }

    #[test]
    fn unknown_duplicate_and_self_dependencies_name_the_step() {
        let unknown = levels(&[step("a", &["nope"])]).err();
        assert_eq!(
            unknown.as_ref().map(DagError::field).as_deref(),
            Some("steps[0].depends_on")
        );
        let twice = levels(&[step("a", &[]), step("a", &[])]).err();
        assert_eq!(
            twice.as_ref().map(DagError::field).as_deref(),
            Some("steps[1].name")
        );
        assert_eq!(
            levels(&[step("a", &["a"])]).err(),
            Some(DagError::OnItself { index: 0 })
        );
    }
}
