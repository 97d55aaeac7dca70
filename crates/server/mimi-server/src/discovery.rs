//! Discovery: users' profiles (`GET`/`PUT /v1/profile`), `identifierQuery` answered here for
//! peers over mutual TLS, and `POST /v1/users/find` for our users, answered here or relayed to
//! the provider asked. What matches and what an answer reveals is `mimi_ds::discovery`'s
//! decision; this module loads the candidates, counts the requester and carries the answer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mimi_client_api::{ErrorCode, FindUsers, FoundUser, ProfileView, SetProfile, UsersFound};
use mimi_ds::discovery::{
    Handle, Profile, ProfileError, QueryPlan, Requester, Searchable, SearchableField, answer_query,
    plan_query,
};
use mimi_ds::{DsStore as _, ProfileSaved, RequestError};
use mimi_federation_api::http::IDENTIFIER_QUERY;
use mimi_federation_api::identifier_query::{
    IdentifierRequest, IdentifierResponse, QueryElement, SearchKind,
};
use mimi_federation_api::{Encode as _, decode_exact};
use mimi_transport::PeerDomain;
use mimi_types::{Domain, UserUri};

use crate::client_http::{authenticate, json, reply};
use crate::error::ServerError;
use crate::error::bad_request;
use crate::provider::Provider;

/// The largest `IdentifierRequest` body we read (a full request of the largest elements is far
/// smaller than the federation body limit, so a larger one is refused before decoding: 413).
pub(crate) const MAX_QUERY_BODY_BYTES: usize = 64 * 1024;

impl Provider {
    /// Counts one query by `requester`, or refuses it (429 with `Retry-After`).
    fn take_query(&self, requester: &Requester) -> Result<(), ServerError> {
        let now = Self::now_ms();
        let taken = match self.follower.query_limiter.lock() {
            Ok(mut limiter) => limiter.take(requester, now),
            Err(poisoned) => poisoned.into_inner().take(requester, now),
        };
        taken.map_err(|retry_in_ms| {
            tracing::info!(?requester, "identifier query rate-limited");
            RequestError::RateLimited { retry_in_ms }.into()
        })
    }

    /// Answers `request` about our users for `requester`.
    pub(crate) async fn answer_identifier_query(
        &self,
        requester: &Requester,
        request: &IdentifierRequest,
    ) -> Result<IdentifierResponse, ServerError> {
        self.take_query(requester)?;
        match plan_query(&self.domain, request)? {
            QueryPlan::Answer(answer) => Ok(answer),
            QueryPlan::Search { source, all, limit } => {
                let candidates = self.store.find_profiles(&source, limit).await?;
                Ok(answer_query(&all, candidates)?)
            }
        }
    }
}

/// `POST /identifierQuery/{domain}` from a peer (mutual TLS).
pub(crate) async fn federation_route(
    provider: &Provider,
    peer: &PeerDomain,
    domain: &str,
    body: &Bytes,
) -> Result<Vec<u8>, ServerError> {
    if body.len() > MAX_QUERY_BODY_BYTES {
        return Err(ServerError::api(
            ErrorCode::TooLarge,
            format!(
                "an IdentifierRequest is at most {MAX_QUERY_BODY_BYTES} bytes here; this one \
                 has {}",
                body.len()
            ),
        ));
    }
    let request: IdentifierRequest =
        decode_exact(body).map_err(|e| bad_request("IdentifierRequest", e))?;
    let named = Domain::parse(domain).map_err(|e| bad_request("the domain in the path", e))?;
    if named != provider.domain {
        return Err(RequestError::WrongProvider {
            named: named.to_string(),
        }
        .into());
    }
    provider
        .answer_identifier_query(&Requester::Peer(peer.0.clone()), &request)
        .await?
        .encode()
        .map_err(|e| RequestError::Internal(format!("IdentifierResponse: {e}")).into())
}

fn user_of(provider: &Provider, device: &mimi_types::ClientUri) -> Result<UserUri, ServerError> {
    device
        .user_hint()
        .filter(|u| u.domain() == &provider.domain)
        .ok_or_else(|| ServerError::Accounts(format!("device {device} names no user of ours")))
}

fn view(user: &UserUri, profile: Option<&Profile>) -> ProfileView {
    ProfileView {
        user: user.to_string(),
        handle: profile.and_then(|p| p.handle.as_ref().map(|h| h.as_str().to_owned())),
        display_name: profile.and_then(|p| p.display_name.clone()),
        searchable: profile
            .map(|p| p.searchable.fields())
            .unwrap_or_default()
            .into_iter()
            .map(|f| f.name().to_owned())
            .collect(),
    }
}

fn profile_refused(e: &ProfileError) -> ServerError {
    ServerError::api(ErrorCode::BadRequest, e.to_string())
}

/// `GET /v1/profile`.
pub(crate) async fn get_profile(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let user = user_of(
            &provider,
            &authenticate(&provider.accounts, &headers).await?,
        )?;
        let profile = provider.store.profile(&user).await?;
        Ok(view(&user, profile.as_ref()))
    }
    .await;
    reply(StatusCode::OK, result)
}

/// `PUT /v1/profile`.
pub(crate) async fn set_profile(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let user = user_of(
            &provider,
            &authenticate(&provider.accounts, &headers).await?,
        )?;
        let set: SetProfile = json(&body)?;
        let old = provider.store.profile(&user).await?;
        let handle = match set.handle.as_deref() {
            None => old.as_ref().and_then(|p| p.handle.clone()),
            Some("") => None,
            Some(h) => Some(Handle::parse(h).map_err(|e| profile_refused(&e))?),
        };
        let display_name = match set.display_name {
            None => old.as_ref().and_then(|p| p.display_name.clone()),
            Some(n) if n.is_empty() => None,
            Some(n) => Some(n),
        };
        let searchable = match &set.searchable {
            None => old.as_ref().map_or(Searchable::NONE, |p| p.searchable),
            Some(names) => Searchable::of(
                &names
                    .iter()
                    .map(|n| SearchableField::parse(n))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| profile_refused(&e))?,
            ),
        };
        let profile = Profile::new(user.clone(), handle, display_name, searchable)
            .map_err(|e| profile_refused(&e))?;
        match provider.store.save_profile(&profile).await? {
            ProfileSaved::Saved => Ok(view(&user, Some(&profile))),
            ProfileSaved::HandleTaken => Err(ServerError::api(
                ErrorCode::AlreadyExists,
                format!(
                    "another user of {} has the handle {}; choose another",
                    provider.domain,
                    profile.handle.as_ref().map_or("", Handle::as_str)
                ),
            )),
        }
    }
    .await;
    reply(StatusCode::OK, result)
}

/// The query element a [`FindUsers`] asks for.
fn element(find: &FindUsers) -> Result<QueryElement, ServerError> {
    let kind = match find.by.as_str() {
        "handle" => SearchKind::Handle,
        "nick" => SearchKind::Nick,
        "name" => SearchKind::PartialName,
        "any" => SearchKind::WholeProfile,
        other => {
            return Err(ServerError::api(
                ErrorCode::BadRequest,
                format!("by {other:?} is not a search; use handle, nick, name or any"),
            ));
        }
    };
    if find.value.len() > mimi_federation_api::limits::MAX_SEARCH_VALUE_LEN {
        return Err(ServerError::api(
            ErrorCode::TooLarge,
            "the search value is too long; search for less",
        ));
    }
    Ok(QueryElement::new(kind, find.value.clone()))
}

/// What the client sees of an answer: the users, with the handle and display name each
/// revealed (our own answers and peers' alike).
fn found(provider: &Domain, answer: &IdentifierResponse) -> UsersFound {
    let users = answer
        .found_profiles
        .iter()
        .map(|p| {
            let field = |name: &str| {
                p.fields
                    .iter()
                    .find(|f| f.field_name == name)
                    .map(|f| String::from_utf8_lossy(&f.field_value).into_owned())
            };
            FoundUser {
                user: p.stable_uri.as_str().to_owned(),
                handle: field("preferred_username"),
                display_name: field("name"),
            }
        })
        .collect();
    UsersFound {
        provider: provider.to_string(),
        code: answer.response_code.name().to_owned(),
        users,
    }
}

/// `POST /v1/users/find`: counted per user here, then answered here or relayed to the
/// provider asked over mutual TLS (which counts us as its peer).
pub(crate) async fn find_users(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let user = user_of(
            &provider,
            &authenticate(&provider.accounts, &headers).await?,
        )?;
        let find: FindUsers = json(&body)?;
        let target = match find.provider.as_deref() {
            None => provider.domain.clone(),
            Some(d) => Domain::parse(d).map_err(|e| {
                ServerError::api(ErrorCode::BadRequest, format!("provider {d:?}: {e}"))
            })?,
        };
        let request = IdentifierRequest::new(vec![element(&find)?]);
        let answer = if target == provider.domain {
            provider
                .answer_identifier_query(&Requester::User(user), &request)
                .await?
        } else {
            provider.take_query(&Requester::User(user))?;
            let body = request.encode().map_err(|e| bad_request("the search", e))?;
            let bytes = provider
                .post_to_peer(&target, &IDENTIFIER_QUERY, &target, body)
                .await?;
            decode_exact::<IdentifierResponse>(&bytes).map_err(|e| ServerError::Peer {
                peer: target.clone(),
                status: 200,
                message: format!("an IdentifierResponse that does not decode: {e}"),
            })?
        };
        Ok(found(&target, &answer))
    }
    .await;
    reply(StatusCode::OK, result)
}

/// The federation handler's signature, for the route table.
pub(crate) async fn identifier_query(
    State(provider): State<Arc<Provider>>,
    Extension(peer): Extension<PeerDomain>,
    Path(domain): Path<String>,
    body: Bytes,
) -> Response {
    let result = federation_route(&provider, &peer, &domain, &body).await;
    crate::peer_http::respond(&peer, result)
}
