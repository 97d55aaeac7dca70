//! Profiles for discovery: unique handles and the search definition.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn profile(
    user: &str,
    handle: Option<&str>,
    name: Option<&str>,
    fields: &[SearchableField],
) -> Profile {
    Profile::new(
        UserUri::parse(&format!("mimi://z.example/u/{user}")).unwrap(),
        handle.map(|h| Handle::parse(h).unwrap()),
        name.map(str::to_owned),
        Searchable::of(fields),
    )
    .unwrap()
}

/// A profile is replaced whole; a handle belongs to one user at a time.
pub async fn profiles_keep_handles_unique<S: DsStore>(store: &S) {
    use SearchableField::{Handle as H, Name as N};
    let diana = profile("diana", Some("di"), Some("Diana Prince"), &[H, N]);
    assert_eq!(
        store.save_profile(&diana).await.unwrap(),
        ProfileSaved::Saved
    );
    assert_eq!(
        store.profile(&diana.user).await.unwrap(),
        Some(diana.clone())
    );
    let thief = profile("eve", Some("di"), None, &[H]);
    assert_eq!(
        store.save_profile(&thief).await.unwrap(),
        ProfileSaved::HandleTaken,
        "another user's handle is refused"
    );
    assert_eq!(
        store.profile(&thief.user).await.unwrap(),
        None,
        "nothing saved"
    );
    let renamed = profile("diana", Some("wonder"), None, &[N]);
    assert_eq!(
        store.save_profile(&renamed).await.unwrap(),
        ProfileSaved::Saved
    );
    assert_eq!(store.profile(&diana.user).await.unwrap(), Some(renamed));
    assert_eq!(
        store.save_profile(&thief).await.unwrap(),
        ProfileSaved::Saved,
        "a released handle is free"
    );
}

/// `find_profiles` returns exactly the profiles `ProfileSearch::matches` accepts, by user, at
/// most `limit`, and never through a field that is not searchable.
pub async fn profile_search_follows_its_definition<S: DsStore>(store: &S) {
    use SearchableField::{Handle as H, Name as N, Nick as K};
    let profiles = [
        profile("anna", Some("anna.k"), Some("Anna Karenina"), &[H, N]),
        profile("bert", Some("bert_100"), Some("Bert Ånström"), &[H, K, N]),
        profile("carl", Some("karl"), Some("Carl Anna"), &[]),
        profile("dora", None, Some("Dora 50% Explorer"), &[N]),
        profile("emil", Some("em"), None, &[K]),
    ];
    for p in &profiles {
        assert_eq!(store.save_profile(p).await.unwrap(), ProfileSaved::Saved);
    }
    let searches = [
        ProfileSearch::Handle(Handle::parse("anna.k").unwrap()),
        ProfileSearch::Handle(Handle::parse("karl").unwrap()),
        ProfileSearch::Nick("bert".into()),
        ProfileSearch::Nick("anna".into()),
        ProfileSearch::Nick("emil".into()),
        ProfileSearch::NameContains("anna".into()),
        ProfileSearch::NameContains("ånström".into()),
        ProfileSearch::NameContains("50%".into()),
        ProfileSearch::NameContains("0%_".into()),
        ProfileSearch::AnyContains("an".into()),
        ProfileSearch::AnyContains("r_1".into()),
        ProfileSearch::AnyContains("rt%".into()),
        ProfileSearch::AnyContains("_".into()),
        ProfileSearch::AnyContains("mil".into()),
        ProfileSearch::AnyContains("zzz".into()),
    ];
    for search in &searches {
        let expected: Vec<Profile> = profiles
            .iter()
            .filter(|p| search.matches(p))
            .cloned()
            .collect();
        let found = store.find_profiles(search, 100).await.unwrap();
        assert_eq!(found, expected, "{search:?}");
        if expected.len() > 1 {
            let first = store.find_profiles(search, 1).await.unwrap();
            assert_eq!(first, expected[..1], "{search:?} limited to 1");
        }
    }
    let anna = store
        .find_profiles(&ProfileSearch::NameContains("anna".into()), 100)
        .await
        .unwrap();
    assert_eq!(
        anna,
        profiles[..1],
        "carl's name matches too, but he made nothing searchable"
    );
}
