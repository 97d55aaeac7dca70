//! Who may use the app: the token of this run, and only pages of this origin.
//!
//! * The token (32 random bytes) is printed in the link's fragment, which browsers never send
//!   to a server; the page keeps it in its tab (`sessionStorage`) and sends it as
//!   `Authorization: Bearer` with each API call (`?token=` on the WebSocket, which cannot carry
//!   headers). An API request without it is refused with 401.
//! * `Host` must name this listener (`127.0.0.1:PORT` or `localhost:PORT`): a page of another
//!   site whose name was re-pointed at 127.0.0.1 (DNS rebinding) sends its own name and is
//!   refused with 403, for the page too.
//! * `Origin`, when a browser sends one, must be this origin: another site's script is refused
//!   with 403 even before the token is looked at.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use rand::RngCore as _;
use rand::rngs::OsRng;

use super::api::AppError;

/// The token of this run and the port the app listens on.
#[derive(Clone)]
pub(crate) struct Guard {
    token: String,
    port: u16,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// A guard with a fresh random token for a listener on `port`.
    pub(crate) fn new(port: u16) -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self {
            token: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            port,
        }
    }

    /// The token (for the printed link).
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// Whether `host` (a `Host` header) names this listener.
    fn host_allowed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        host == format!("127.0.0.1:{}", self.port) || host == format!("localhost:{}", self.port)
    }

    /// Whether `origin` (an `Origin` header) is this app's own.
    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        origin == format!("http://127.0.0.1:{}", self.port)
            || origin == format!("http://localhost:{}", self.port)
    }

    /// Whether `given` is the token (compared in constant time).
    fn token_matches(&self, given: &str) -> bool {
        let (a, b) = (self.token.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The token a request carries: `Authorization: Bearer`, or `?token=` on the WebSocket.
    fn token_of<'a>(headers: &'a HeaderMap, path: &str, query: Option<&'a str>) -> Option<&'a str> {
        if let Some(bearer) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            return Some(bearer.trim());
        }
        if path == super::live::PATH {
            return query?
                .split('&')
                .find_map(|pair| pair.strip_prefix("token="));
        }
        None
    }

    /// Why `request` is refused, if it is.
    fn refusal(&self, headers: &HeaderMap, path: &str, query: Option<&str>) -> Option<AppError> {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !self.host_allowed(host) {
            return Some(AppError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "this app answers only to http://127.0.0.1:{0} and http://localhost:{0} \
                     (the request named host {host:?}): open the link `mimi app` printed",
                    self.port
                ),
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !self.origin_allowed(origin) {
                return Some(AppError::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "requests from pages of {origin:?} are refused: only the app's own page \
                         (http://127.0.0.1:{}) may use it",
                        self.port
                    ),
                ));
            }
        }
        if path.starts_with("/api/")
            && !Self::token_of(headers, path, query).is_some_and(|t| self.token_matches(t))
        {
            return Some(AppError::new(
                StatusCode::UNAUTHORIZED,
                "this request carries no valid token: open the link (with #token=...) that \
                 `mimi app` printed when it started",
            ));
        }
        None
    }
}

/// The middleware: refuses what [`Guard`] refuses, and adds the security headers every answer
/// carries.
pub(crate) async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let refused = guard.refusal(
        request.headers(),
        request.uri().path(),
        request.uri().query(),
    );
    let api = request.uri().path().starts_with("/api/");
    let mut response = match refused {
        Some(error) => error.into_response(),
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn tokens_are_fresh_and_compared_whole() {
        let guard = Guard::new(8080);
        assert_eq!(guard.token().len(), 64);
        assert_ne!(guard.token(), Guard::new(8080).token());
        assert!(guard.token_matches(guard.token()));
        assert!(!guard.token_matches(&guard.token()[..63]));
        assert!(!guard.token_matches(""));
        assert!(
            !format!("{guard:?}").contains(guard.token()),
            "Debug hides the token"
        );
    }

    #[test]
    fn only_this_listener_and_origin_pass() {
        let guard = Guard::new(8080);
        let token = guard.token().to_owned();
        let bearer = format!("Bearer {token}");
        let ok = headers(&[
            (header::HOST, "127.0.0.1:8080"),
            (header::AUTHORIZATION, &bearer),
            (header::ORIGIN, "http://127.0.0.1:8080"),
        ]);
        assert!(guard.refusal(&ok, "/api/rooms", None).is_none());
        let ok = headers(&[
            (header::HOST, "LOCALHOST:8080"),
            (header::AUTHORIZATION, &bearer),
        ]);
        assert!(guard.refusal(&ok, "/api/rooms", None).is_none());
        // The page itself needs no token; the API does.
        let page = headers(&[(header::HOST, "127.0.0.1:8080")]);
        assert!(guard.refusal(&page, "/", None).is_none());
        assert_eq!(
            guard.refusal(&page, "/api/rooms", None).unwrap().status,
            StatusCode::UNAUTHORIZED
        );
        let wrong = headers(&[
            (header::HOST, "127.0.0.1:8080"),
            (header::AUTHORIZATION, "Bearer 00"),
        ]);
        assert_eq!(
            guard.refusal(&wrong, "/api/rooms", None).unwrap().status,
            StatusCode::UNAUTHORIZED
        );
        // The token in the query counts on the WebSocket only.
        let query = format!("token={token}");
        assert!(
            guard
                .refusal(&page, super::super::live::PATH, Some(&query))
                .is_none()
        );
        assert_eq!(
            guard
                .refusal(&page, "/api/rooms", Some(&query))
                .unwrap()
                .status,
            StatusCode::UNAUTHORIZED
        );
        // DNS rebinding: another name, even with the token; another port.
        for host in ["evil.example:8080", "127.0.0.1:8081", "127.0.0.1", ""] {
            let rebound = headers(&[(header::HOST, host), (header::AUTHORIZATION, &bearer)]);
            let refused = guard.refusal(&rebound, "/api/rooms", None).unwrap();
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{host}");
            assert!(guard.refusal(&rebound, "/", None).is_some(), "{host}");
        }
        // Another site's script, even with the token.
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:8081",
            "null",
            "https://127.0.0.1:8080",
        ] {
            let cross = headers(&[
                (header::HOST, "127.0.0.1:8080"),
                (header::AUTHORIZATION, &bearer),
                (header::ORIGIN, origin),
            ]);
            let refused = guard.refusal(&cross, "/api/rooms", None).unwrap();
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{origin}");
            assert!(refused.message.contains("refused"), "{}", refused.message);
        }
    }
}
