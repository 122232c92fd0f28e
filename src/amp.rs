//! The Action–Means–Purpose view of the indicators found in one ad.
//!
//! The UN Trafficking Protocol (art. 3) and the US TVPA define trafficking as an **action**
//! (recruit, transport, harbour…) by a **means** (deception, coercion, debt bondage, document
//! retention…) for a **purpose** (sexual exploitation, forced labour). Each catalogue indicator
//! names the column it evidences; this module reports which columns an ad evidences and whether
//! all three are present. For a minor in commercial sex the means are not required (Protocol
//! art. 3(c); 22 U.S.C. 7102), so `minor_cue` with `escort_ad` completes the picture on its own.

use serde::Serialize;

/// The three columns of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pillar {
    Action,
    Means,
    Purpose,
}

/// One indicator's place in the model: a pillar and the element within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub pillar: Pillar,
    pub element: &'static str,
}

const ELEMENTS: &[(Pillar, &str)] = &[
    (Pillar::Action, "recruit"),
    (Pillar::Action, "transport"),
    (Pillar::Action, "harbour"),
    (Pillar::Means, "deception"),
    (Pillar::Means, "coercion"),
    (Pillar::Means, "debt"),
    (Pillar::Means, "document_retention"),
    (Pillar::Purpose, "sexual_exploitation"),
    (Pillar::Purpose, "forced_labour"),
];

impl Column {
    /// Parses `action:recruit`, `means:debt`, …; `none` parses as `Some(None)` (an indicator
    /// outside the model); anything else is `None`.
    pub fn parse(s: &str) -> Option<Option<Column>> {
        if s == "none" {
            return Some(None);
        }
        let (p, e) = s.split_once(':')?;
        let pillar = match p {
            "action" => Pillar::Action,
            "means" => Pillar::Means,
            "purpose" => Pillar::Purpose,
            _ => return None,
        };
        ELEMENTS
            .iter()
            .find(|&&(q, name)| q == pillar && name == e)
            .map(|&(pillar, element)| Some(Column { pillar, element }))
    }
}

/// Which columns one ad evidences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Amp {
    pub action: Vec<&'static str>,
    pub means: Vec<&'static str>,
    pub purpose: Vec<&'static str>,
    /// Action, means and purpose all evidenced, or a minor cue in an ad for sexual services.
    pub complete: bool,
}

impl Amp {
    /// Builds the view from the columns of the indicators that fired. `minor_in_commercial_sex`
    /// is true when `minor_cue` fired (it only fires together with `escort_ad`).
    pub fn from_columns<'a>(
        columns: impl IntoIterator<Item = &'a Column>,
        minor_in_commercial_sex: bool,
    ) -> Amp {
        let mut amp = Amp::default();
        for c in columns {
            let list = match c.pillar {
                Pillar::Action => &mut amp.action,
                Pillar::Means => &mut amp.means,
                Pillar::Purpose => &mut amp.purpose,
            };
            if !list.contains(&c.element) {
                list.push(c.element);
            }
        }
        for l in [&mut amp.action, &mut amp.means, &mut amp.purpose] {
            l.sort_unstable();
        }
        amp.complete = minor_in_commercial_sex
            || (!amp.action.is_empty() && !amp.means.is_empty() && !amp.purpose.is_empty());
        amp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(s: &str) -> Column {
        Column::parse(s).flatten().unwrap()
    }

    #[test]
    fn complete_needs_all_three_unless_minor() {
        let cols = [col("action:transport"), col("means:debt")];
        assert!(!Amp::from_columns(&cols, false).complete);
        let cols = [
            col("action:transport"),
            col("means:debt"),
            col("purpose:forced_labour"),
        ];
        assert!(Amp::from_columns(&cols, false).complete);
        let cols = [col("purpose:sexual_exploitation")];
        assert!(Amp::from_columns(&cols, true).complete);
        assert_eq!(Column::parse("means:magic"), None);
        assert_eq!(Column::parse("none"), Some(None));
    }
}
