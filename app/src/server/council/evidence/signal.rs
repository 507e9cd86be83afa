//! A decision signal and the category it is about.

/// What a signal is about; personas weigh categories by their stance and domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Tests, crashes, service health.
    Reliability,
    /// Backups, schema changes, rollback.
    DataSafety,
    /// Vulnerabilities, secrets, reviews.
    Security,
    /// Deadlines, effort, scope.
    Delivery,
    /// Working tree, upstream, review state.
    Hygiene,
    /// Memory and CPU trends.
    Performance,
    /// Money and resources.
    Cost,
    /// Workload, team size, wellbeing.
    People,
    /// What past decisions taught.
    Knowledge,
    /// Lifecycle and long-term direction.
    Strategy,
    /// What standing still costs: a problem the decision would remedy (negative risk argues for
    /// acting and, unlike other reassurance, counts in full).
    Need,
}

impl Category {
    /// The persona domains that make a persona an expert in this category.
    pub fn domains(self) -> &'static [&'static str] {
        match self {
            Category::Reliability => &["reliability", "testing", "risk", "deploy"],
            Category::DataSafety => &["backup", "data", "risk"],
            Category::Security => &["security", "risk", "privacy"],
            Category::Delivery => &["delivery", "deadline", "effort", "scope"],
            Category::Hygiene => &["delivery", "reliability", "technical_debt"],
            Category::Performance => &["performance", "metrics", "resources"],
            Category::Cost => &["cost", "budget", "resources"],
            Category::People => &["team", "wellbeing", "workload", "leadership"],
            Category::Knowledge => &["evidence", "learning", "knowledge", "research"],
            Category::Strategy => &["strategy", "roadmap", "lifecycle", "architecture"],
            Category::Need => &[
                "delivery",
                "performance",
                "reliability",
                "growth",
                "metrics",
            ],
        }
    }
}

/// Where a signal comes from, which decides how the kind of decision reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nature {
    /// Something found or stated.
    #[default]
    Fact,
    /// A symptom in production (crashes, error rate, latency, load): a risk for a change made on
    /// top of it, but the very reason for a decision that remedies it.
    Symptom,
    /// Evidence that is missing (no test result, no backup): a risk only where the kind of
    /// decision requires that evidence; elsewhere it lowers confidence instead.
    Absence,
}

/// A decision signal: positive `risk` argues against proceeding, negative for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// The evidence it comes from.
    pub evidence: String,
    /// What it is about.
    pub category: Category,
    /// −1 (clearly safe to proceed) … 1 (clearly not).
    pub risk: f64,
    /// What it means, for a rationale.
    pub claim: String,
    /// What would make proceeding acceptable (a condition), when it is a risk.
    pub mitigation: Option<String>,
    /// Found, a symptom, or missing evidence.
    pub nature: Nature,
}
