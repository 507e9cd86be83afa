//! How well a memory's text answers a query: BM25 (Lucene's idf, k1 = 1.2, b = 0.75) over
//! Snowball-stemmed words, computed here rather than by the database, so that SQLite and
//! PostgreSQL rank alike and the database only has to find the candidates.

use rust_stemmers::{Algorithm, Stemmer};
use std::collections::HashMap;
use std::sync::OnceLock;

const K1: f64 = 1.2;
const B: f64 = 0.75;

fn stemmer() -> &'static Stemmer {
    static S: OnceLock<Stemmer> = OnceLock::new();
    S.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// The lower-case words of a text (letters and digits).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The stem of a query term.
pub fn stem(term: &str) -> String {
    stemmer().stem(&term.to_lowercase()).into_owned()
}

/// Query stems and which document words stem to which of them: each distinct word of the
/// documents is looked at once per query, then found in `seen`.
struct Matcher<'q, 'd> {
    stems: &'q [String],
    /// Per stem, the first characters (lower case) a word must begin with to stem to it.
    prefixes: Vec<Vec<char>>,
    seen: HashMap<&'d str, Option<usize>>,
}

impl<'q, 'd> Matcher<'q, 'd> {
    fn new(stems: &'q [String]) -> Self {
        // Stemming only cuts or rewrites a word's end (a stem of four letters or more keeps
        // the word's first three; a shorter one, as "dying" to "die", its first), so a word
        // that begins otherwise than every stem is not stemmed.
        let prefixes = stems
            .iter()
            .map(|s| {
                let n = if s.chars().count() > 3 { 3 } else { 1 };
                s.chars().take(n).flat_map(char::to_lowercase).collect()
            })
            .collect();
        Self {
            stems,
            prefixes,
            seen: HashMap::new(),
        }
    }

    /// Which query stem `word` stems to, if any.
    fn term_of(&mut self, word: &'d str) -> Option<usize> {
        if let Some(t) = self.seen.get(word) {
            return *t;
        }
        let could = self.prefixes.iter().any(|p| {
            let mut begins = word.chars().flat_map(char::to_lowercase);
            p.iter().all(|c| begins.next() == Some(*c))
        });
        let t = if could {
            let stemmed = stemmer().stem(&word.to_lowercase()).into_owned();
            self.stems.iter().position(|s| *s == stemmed)
        } else {
            None
        };
        self.seen.insert(word, t);
        t
    }
}

/// BM25 of each document for the query stems, in the documents' order (0 where none occurs).
///
/// `total` documents exist. `docs` holds every one that contains a query term, unless `cap` or
/// more of them contain one: then they are a sample of the matches, and each term's document
/// frequency is read from the sample rather than counted over `total`.
pub fn bm25(stems: &[String], docs: &[&str], total: u64, cap: usize) -> Vec<f64> {
    if stems.is_empty() || docs.is_empty() {
        return vec![0.0; docs.len()];
    }
    let mut m = Matcher::new(stems);
    // Per document: its length in words and each stem's count.
    let mut lengths = Vec::with_capacity(docs.len());
    let mut counts = Vec::with_capacity(docs.len());
    let mut df = vec![0u64; stems.len()];
    for d in docs {
        let mut tf = vec![0u32; stems.len()];
        let mut len = 0u32;
        for w in words(d) {
            len += 1;
            if let Some(t) = m.term_of(w) {
                tf[t] += 1;
            }
        }
        for (t, c) in tf.iter().enumerate() {
            if *c > 0 {
                df[t] += 1;
            }
        }
        lengths.push(f64::from(len));
        counts.push(tf);
    }
    let matching = counts.iter().filter(|tf| tf.iter().any(|c| *c > 0)).count();
    let n = if matching < cap {
        total.max(docs.len() as u64) as f64
    } else {
        docs.len() as f64
    };
    let idf: Vec<f64> = df
        .iter()
        .map(|&d| {
            let d = d as f64;
            (1.0 + (n - d + 0.5) / (d + 0.5)).ln()
        })
        .collect();
    let avg = (lengths.iter().sum::<f64>() / lengths.len() as f64).max(1.0);
    counts
        .iter()
        .zip(&lengths)
        .map(|(tf, len)| {
            tf.iter()
                .zip(&idf)
                .filter(|(c, _)| **c > 0)
                .map(|(c, idf)| {
                    let c = f64::from(*c);
                    idf * c * (K1 + 1.0) / (c + K1 * (1.0 - B + B * len / avg))
                })
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(q: &[&str]) -> Vec<String> {
        q.iter().map(|t| stem(t)).collect()
    }

    #[test]
    fn inflected_forms_match_their_stem() {
        let s = stems(&["deployment", "migrations"]);
        let r = bm25(
            &s,
            &[
                "We deployed it after the migration",
                "Deploying needs a migrated schema",
                "nothing here",
            ],
            3,
            10,
        );
        assert!(r[0] > 0.0 && r[1] > 0.0, "{r:?}");
        assert_eq!(r[2], 0.0);
    }

    #[test]
    fn a_rare_term_weighs_more_than_a_common_one() {
        let s = stems(&["deploy", "billing"]);
        let docs = [
            "deploy deploy the thing",
            "billing of the thing now",
            "deploy again today ok",
            "deploy once more here",
        ];
        let r = bm25(&s, &docs, 4, 10);
        assert!(r[1] > r[0], "{r:?}");
    }

    #[test]
    fn more_occurrences_and_shorter_texts_score_higher() {
        let s = stems(&["cache"]);
        let docs = [
            "cache cache cache",
            "cache and some other words",
            "cache and a great many other words that say nothing at all about it",
            "unrelated",
        ];
        let r = bm25(&s, &docs, 10, 10);
        assert!(r[0] > r[1] && r[1] > r[2] && r[3] == 0.0, "{r:?}");
    }

    #[test]
    fn words_that_only_share_a_beginning_do_not_match() {
        let s = stems(&["cat"]);
        let r = bm25(&s, &["category catalogue", "cats"], 2, 10);
        assert_eq!(r[0], 0.0);
        assert!(r[1] > 0.0);
        let s = stems(&["die"]);
        assert!(bm25(&s, &["dying"], 1, 10)[0] > 0.0);
    }

    #[test]
    fn a_sample_of_the_matches_reads_frequencies_from_itself() {
        // Both terms are in every candidate: counted over 1,000 documents they would be rare;
        // as a sample (the cap reached) they are as common as they are in it.
        let s = stems(&["deploy", "cache"]);
        let docs = ["deploy cache", "cache deploy"];
        let complete = bm25(&s, &docs, 1000, 10);
        let sample = bm25(&s, &docs, 1000, 2);
        assert!(complete[0] > sample[0], "{complete:?} {sample:?}");
        assert!(sample[0] > 0.0);
    }

    #[test]
    fn no_terms_or_no_documents_score_nothing() {
        assert_eq!(bm25(&[], &["a b"], 1, 10), vec![0.0]);
        assert!(bm25(&stems(&["a"]), &[], 0, 10).is_empty());
    }
}
