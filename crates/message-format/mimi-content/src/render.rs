//! Which parts a receiver processes (draft-ietf-mimi-content-08 "Processing", digest §5.3):
//! evaluate chooseOne choices from the root, process singleUnit parts all-or-nothing and
//! processAll parts each on its own, and skip parts consumed inline through `cid:` references.

use std::collections::BTreeSet;

use crate::model::{NestedPart, PartBody, PartSemantics};
use crate::text::cid_references;

impl NestedPart {
    /// The `partIndex` values of the leaf parts to process, in order.
    ///
    /// `understands` is asked about leaf parts only (null, single, external) and says whether
    /// this receiver can process one (by content type, language, ...). A chooseOne takes its
    /// first child (the sender's preference) that is usable; a singleUnit is usable only if
    /// all its children are; a processAll keeps its usable children. A selection is unusable if
    /// one of its text parts references (`cid:`) a part the receiver does not understand.
    /// Parts referenced by a selected part are consumed by it and left out of the result.
    pub fn select_parts(&self, mut understands: impl FnMut(&NestedPart) -> bool) -> Vec<usize> {
        let mut parts = Vec::new();
        self.walk(&mut |_, _, part| parts.push(part));
        let understood: BTreeSet<usize> = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| !matches!(p.body, PartBody::Multi(_)) && understands(p))
            .map(|(i, _)| i)
            .collect();
        let refs: Vec<Vec<usize>> = parts.iter().map(|p| references(p)).collect();
        let Some(selected) = select(self, 0, &understood, &refs) else {
            return Vec::new();
        };
        let consumed: BTreeSet<usize> = selected
            .iter()
            .flat_map(|i| refs.get(*i).into_iter().flatten().copied())
            .collect();
        selected
            .into_iter()
            .filter(|i| !consumed.contains(i))
            .collect()
    }

    /// How many parts this part spans (itself and everything inside it).
    fn part_count(&self) -> usize {
        match &self.body {
            PartBody::Multi(multi) => {
                1 + multi
                    .parts
                    .iter()
                    .map(NestedPart::part_count)
                    .sum::<usize>()
            }
            _ => 1,
        }
    }
}

fn references(part: &NestedPart) -> Vec<usize> {
    match &part.body {
        PartBody::Single(single)
            if single
                .content_type
                .to_ascii_lowercase()
                .starts_with("text/") =>
        {
            cid_references(&single.content)
        }
        _ => Vec::new(),
    }
}

/// The selected leaves under `part` (whose partIndex is `index`), or `None` if unusable.
fn select(
    part: &NestedPart,
    index: usize,
    understood: &BTreeSet<usize>,
    refs: &[Vec<usize>],
) -> Option<Vec<usize>> {
    let PartBody::Multi(multi) = &part.body else {
        return understood.contains(&index).then(|| vec![index]);
    };
    let mut child_index = index + 1;
    let mut children = Vec::with_capacity(multi.parts.len());
    for child in &multi.parts {
        children.push(select(child, child_index, understood, refs));
        child_index += child.part_count();
    }
    let selection = match multi.semantics {
        PartSemantics::ChooseOne => children.into_iter().flatten().next()?,
        PartSemantics::SingleUnit => children.into_iter().collect::<Option<Vec<_>>>()?.concat(),
        PartSemantics::ProcessAll => children.into_iter().flatten().flatten().collect(),
    };
    let dangling = selection.iter().any(|i| {
        refs.get(*i)
            .is_some_and(|targets| targets.iter().any(|t| !understood.contains(t)))
    });
    (!selection.is_empty() && !dangling).then_some(selection)
}
