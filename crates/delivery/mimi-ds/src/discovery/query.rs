//! What an `identifierQuery` matches and what its answer reveals.

use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::identifier_query::{
    FieldSource, IdentifierQueryCode, IdentifierRequest, IdentifierResponse, ProfileField,
    QueryElement, SearchKind, UserProfile,
};
use mimi_types::Domain;

use super::profile::{Handle, Profile, SearchableField};
use crate::RequestError;

/// The most users one answer names; a query matching more answers `ambiguous`.
pub const MAX_ANSWERS: usize = 20;
/// The fewest characters a substring search (`partialName`, `wholeProfile`) takes; a shorter
/// value answers `ambiguous`.
pub const MIN_SUBSTRING_CHARS: usize = 3;

/// One search the store runs over the profiles of our users; [`ProfileSearch::matches`] is its
/// definition, which a store must follow exactly (the conformance suite checks it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ProfileSearch {
    /// The handle, exactly, where the handle is searchable.
    Handle(Handle),
    /// The user part of the URI (lowercased), exactly, where the nick is searchable.
    Nick(String),
    /// A lowercased substring of the display name, where the name is searchable.
    NameContains(String),
    /// A lowercased substring of any searchable field.
    AnyContains(String),
}

impl ProfileSearch {
    /// Whether `profile` matches.
    pub fn matches(&self, profile: &Profile) -> bool {
        let s = profile.searchable;
        let handle = || profile.handle.as_ref().map(Handle::as_str);
        let name = profile.folded_name();
        match self {
            Self::Handle(h) => s.contains(SearchableField::Handle) && handle() == Some(h.as_str()),
            Self::Nick(n) => s.contains(SearchableField::Nick) && profile.nick() == *n,
            Self::NameContains(part) => {
                s.contains(SearchableField::Name) && name.is_some_and(|n| n.contains(part.as_str()))
            }
            Self::AnyContains(part) => {
                (s.contains(SearchableField::Handle)
                    && handle().is_some_and(|h| h.contains(part.as_str())))
                    || (s.contains(SearchableField::Nick) && profile.nick().contains(part.as_str()))
                    || (s.contains(SearchableField::Name)
                        && name.is_some_and(|n| n.contains(part.as_str())))
            }
        }
    }
}

/// What a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryPlan {
    /// Run [`QueryPlan::Search::source`] on the store (at most `limit` profiles), then
    /// [`answer_query`] with the profiles found.
    Search {
        /// The most selective search: the candidates.
        source: ProfileSearch,
        /// Every search, all of which must match.
        all: Vec<ProfileSearch>,
        /// How many candidates to ask for (one more than [`MAX_ANSWERS`]).
        limit: usize,
    },
    /// Answered without looking: a field we do not keep, a handle of another provider, a
    /// substring too short.
    Answer(IdentifierResponse),
}

enum Element {
    Search(ProfileSearch),
    NoMatch,
    TooShort,
    Unsupported,
}

fn element(ours: &Domain, e: &QueryElement) -> Element {
    let value = e.search_value.trim();
    let substring = |make: fn(String) -> ProfileSearch| {
        let folded = value.to_lowercase();
        if folded.chars().count() < MIN_SUBSTRING_CHARS {
            Element::TooShort
        } else {
            Element::Search(make(folded))
        }
    };
    match &e.search {
        SearchKind::Handle => {
            let bare = match value.strip_prefix("im:").map(|rest| rest.rsplit_once('@')) {
                None => value,
                Some(Some((handle, domain))) if Domain::parse(domain).is_ok_and(|d| &d == ours) => {
                    handle
                }
                Some(_) => return Element::NoMatch,
            };
            Handle::parse(bare).map_or(Element::NoMatch, |h| {
                Element::Search(ProfileSearch::Handle(h))
            })
        }
        SearchKind::Nick if value.is_empty() => Element::NoMatch,
        SearchKind::Nick => Element::Search(ProfileSearch::Nick(value.to_lowercase())),
        SearchKind::PartialName => substring(ProfileSearch::NameContains),
        SearchKind::WholeProfile => substring(ProfileSearch::AnyContains),
        _ => Element::Unsupported,
    }
}

fn code_only(code: IdentifierQueryCode) -> QueryPlan {
    QueryPlan::Answer(IdentifierResponse::new(code, Vec::new(), Vec::new()))
}

/// What `request` needs from the store, or its answer when none is needed. An empty request is
/// malformed.
pub fn plan_query(ours: &Domain, request: &IdentifierRequest) -> Result<QueryPlan, RequestError> {
    if request.query_elements.is_empty() {
        return Err(RequestError::malformed(
            "query_elements",
            "a query needs at least one element",
        ));
    }
    let elements: Vec<Element> = request
        .query_elements
        .iter()
        .map(|e| element(ours, e))
        .collect();
    if elements.iter().any(|e| matches!(e, Element::Unsupported)) {
        return Ok(code_only(IdentifierQueryCode::UnsupportedField));
    }
    if elements.iter().any(|e| matches!(e, Element::NoMatch)) {
        return Ok(code_only(IdentifierQueryCode::NotFound));
    }
    if elements.iter().any(|e| matches!(e, Element::TooShort)) {
        return Ok(code_only(IdentifierQueryCode::Ambiguous));
    }
    let mut all: Vec<ProfileSearch> = elements
        .into_iter()
        .filter_map(|e| match e {
            Element::Search(s) => Some(s),
            _ => None,
        })
        .collect();
    all.sort();
    all.dedup();
    let Some(source) = all.first().cloned() else {
        return Ok(code_only(IdentifierQueryCode::NotFound));
    };
    Ok(QueryPlan::Search {
        source,
        all,
        limit: MAX_ANSWERS + 1,
    })
}

/// The answer from the store's candidates for the plan's source search: the users matching
/// every search, each revealed with only the fields it made searchable. More candidates than
/// [`MAX_ANSWERS`] (the source alone matched too many) or more matches answer `ambiguous`.
pub fn answer_query(
    all: &[ProfileSearch],
    mut candidates: Vec<Profile>,
) -> Result<IdentifierResponse, RequestError> {
    let ambiguous = || IdentifierResponse::new(IdentifierQueryCode::Ambiguous, vec![], vec![]);
    if candidates.len() > MAX_ANSWERS {
        return Ok(ambiguous());
    }
    candidates.retain(|p| all.iter().all(|s| s.matches(p)));
    candidates.sort_by(|a, b| a.user.cmp(&b.user));
    candidates.dedup_by(|a, b| a.user == b.user);
    if candidates.is_empty() {
        return Ok(IdentifierResponse::new(
            IdentifierQueryCode::NotFound,
            vec![],
            vec![],
        ));
    }
    let mut uris = Vec::with_capacity(candidates.len());
    let mut profiles = Vec::with_capacity(candidates.len());
    for profile in &candidates {
        let uri = IdentifierUri::from_string(profile.user.to_string())
            .map_err(|e| RequestError::Internal(format!("stored user {}: {e}", profile.user)))?;
        profiles.push(UserProfile::new(uri.clone(), revealed(profile)));
        uris.push(uri);
    }
    Ok(IdentifierResponse::new(
        IdentifierQueryCode::Success,
        uris,
        profiles,
    ))
}

/// The fields of `profile` an answer may carry: only the searchable ones.
fn revealed(profile: &Profile) -> Vec<ProfileField> {
    let mut fields = Vec::new();
    if profile.searchable.contains(SearchableField::Handle)
        && let Some(handle) = &profile.handle
    {
        fields.push(ProfileField::new(
            FieldSource::OidcStdClaim,
            "preferred_username",
            handle.as_str().as_bytes().to_vec(),
        ));
    }
    if profile.searchable.contains(SearchableField::Name)
        && let Some(name) = &profile.display_name
    {
        fields.push(ProfileField::new(
            FieldSource::OidcStdClaim,
            "name",
            name.as_bytes().to_vec(),
        ));
    }
    fields
}

#[cfg(test)]
mod tests {
    use mimi_types::UserUri;

    use super::*;
    use crate::discovery::Searchable;

    fn ours() -> Domain {
        Domain::parse("x.example").unwrap()
    }

    fn profile(user: &str, handle: &str, name: &str, fields: &[SearchableField]) -> Profile {
        Profile::new(
            UserUri::parse(&format!("mimi://x.example/u/{user}")).unwrap(),
            Some(Handle::parse(handle).unwrap()),
            Some(name.into()),
            Searchable::of(fields),
        )
        .unwrap()
    }

    fn request(elements: &[(SearchKind, &str)]) -> IdentifierRequest {
        IdentifierRequest::new(
            elements
                .iter()
                .map(|(k, v)| QueryElement::new(k.clone(), *v))
                .collect(),
        )
    }

    fn run(request: &IdentifierRequest, profiles: &[Profile]) -> IdentifierResponse {
        match plan_query(&ours(), request).unwrap() {
            QueryPlan::Answer(a) => a,
            QueryPlan::Search { source, all, limit } => {
                let found: Vec<Profile> = profiles
                    .iter()
                    .filter(|p| source.matches(p))
                    .take(limit)
                    .cloned()
                    .collect();
                answer_query(&all, found).unwrap()
            }
        }
    }

    #[test]
    fn only_searchable_fields_match_and_are_revealed() {
        use SearchableField::*;
        let alice = profile("alice", "alice.smith", "Alice Smith", &[Handle, Name]);
        let bob = profile("bob", "bobby", "Bob Jones", &[Name]);
        let all = [alice.clone(), bob.clone()];
        let found = run(
            &request(&[(SearchKind::Handle, "im:alice.smith@x.example")]),
            &all,
        );
        assert_eq!(found.response_code, IdentifierQueryCode::Success);
        assert_eq!(found.uri[0].as_str(), "mimi://x.example/u/alice");
        assert_eq!(found.found_profiles[0].fields.len(), 2);
        // Bob's handle is not searchable: not found by it, and not revealed by a name match.
        let by_handle = run(&request(&[(SearchKind::Handle, "bobby")]), &all);
        assert_eq!(by_handle.response_code, IdentifierQueryCode::NotFound);
        let by_name = run(&request(&[(SearchKind::PartialName, "JONES")]), &all);
        assert_eq!(by_name.response_code, IdentifierQueryCode::Success);
        let fields = &by_name.found_profiles[0].fields;
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].field_name, "name");
        // Nobody made the nick searchable.
        let by_nick = run(&request(&[(SearchKind::Nick, "alice")]), &all);
        assert_eq!(by_nick.response_code, IdentifierQueryCode::NotFound);
    }

    #[test]
    fn elements_are_anded_and_codes_follow_the_draft() {
        use SearchableField::*;
        let alice = profile("alice", "alice.smith", "Alice Smith", &[Handle, Name, Nick]);
        let all = [alice];
        let both = request(&[
            (SearchKind::Nick, "ALICE"),
            (SearchKind::PartialName, "smith"),
        ]);
        assert_eq!(run(&both, &all).response_code, IdentifierQueryCode::Success);
        let clash = request(&[
            (SearchKind::Nick, "alice"),
            (SearchKind::PartialName, "jones"),
        ]);
        assert_eq!(
            run(&clash, &all).response_code,
            IdentifierQueryCode::NotFound
        );
        let foreign = request(&[(SearchKind::Handle, "im:alice.smith@y.example")]);
        assert_eq!(
            run(&foreign, &all).response_code,
            IdentifierQueryCode::NotFound
        );
        let short = request(&[(SearchKind::WholeProfile, "al")]);
        assert_eq!(
            run(&short, &all).response_code,
            IdentifierQueryCode::Ambiguous
        );
        let email = request(&[(SearchKind::Email, "alice@x.example")]);
        assert_eq!(
            run(&email, &all).response_code,
            IdentifierQueryCode::UnsupportedField
        );
        assert!(matches!(
            plan_query(&ours(), &request(&[])),
            Err(RequestError::Malformed { .. })
        ));
    }

    #[test]
    fn too_many_matches_are_ambiguous() {
        let many: Vec<Profile> = (0..=MAX_ANSWERS)
            .map(|n| {
                profile(
                    &format!("u{n}"),
                    &format!("h{n}"),
                    "Common Name",
                    &[SearchableField::Name],
                )
            })
            .collect();
        let query = request(&[(SearchKind::PartialName, "common")]);
        assert_eq!(
            run(&query, &many).response_code,
            IdentifierQueryCode::Ambiguous
        );
        assert_eq!(
            run(&query, &many[..MAX_ANSWERS]).uri.len(),
            MAX_ANSWERS,
            "up to the cap all are named"
        );
    }
}
