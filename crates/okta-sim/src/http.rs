//! What every route shares: Okta's error body, query parameters kept in order (Okta's `next` links
//! repeat them), `Link` headers and cursor pagination.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::rng::Rng;

/// An Okta E-code error, rendered as Okta renders it:
/// `{"errorCode","errorSummary","errorLink","errorId","errorCauses":[{"errorSummary"}]}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub summary: String,
    pub causes: Vec<String>,
    /// Extra response headers (e.g. `WWW-Authenticate`).
    pub headers: Vec<(header::HeaderName, String)>,
}

pub type ApiResult<T = Response> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: u16, code: &'static str, summary: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::from_u16(status).expect("valid status"),
            code,
            summary: summary.into(),
            causes: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }

    /// E0000001, 400: `Api validation failed: {field}` with one cause per problem.
    pub fn validation(field: &str, cause: impl Into<String>) -> Self {
        Self::new(400, "E0000001", format!("Api validation failed: {field}")).cause(cause)
    }

    /// E0000007, 404, in the shape the recordings show: `Not found: Resource not found: {id} ({Kind})`.
    pub fn not_found(id: &str, kind: &str) -> Self {
        Self::new(
            404,
            "E0000007",
            format!("Not found: Resource not found: {id} ({kind})"),
        )
    }

    /// E0000038, 403: an operation the user's status does not allow, with no causes (as recorded).
    pub fn bad_status() -> Self {
        Self::new(
            403,
            "E0000038",
            "This operation is not allowed in the user's current status.",
        )
    }

    /// E0000008, 404: no such endpoint.
    pub fn path_not_found() -> Self {
        Self::new(404, "E0000008", "The requested path was not found")
    }

    /// E0000006, 403: the operation is not allowed on this object (or to this caller).
    pub fn no_permission() -> Self {
        Self::new(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
        )
    }

    /// E0000029, 400: a pagination cursor the org did not hand out (as recorded for `/api/v1/apps`).
    pub fn invalid_cursor() -> Self {
        Self::new(400, "E0000029", "Invalid paging request.").cause("Invalid cursor.")
    }

    pub fn invalid_search(cause: impl Into<String>) -> Self {
        Self::new(400, "E0000031", "Invalid search criteria.").cause(cause)
    }

    pub fn malformed_body() -> Self {
        Self::new(400, "E0000003", "The request body was not well-formed.")
    }

    pub fn internal() -> Self {
        Self::new(500, "E0000009", "Internal Server Error")
    }

    pub fn body(&self) -> Value {
        let id = format!("oae{}", Rng::from_os().alphanumeric(22));
        json!({
            "errorCode": self.code,
            "errorSummary": self.summary,
            "errorLink": self.code,
            "errorId": id,
            "errorCauses": self.causes.iter().map(|c| json!({"errorSummary": c})).collect::<Vec<_>>(),
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                resp.headers_mut().append(name.clone(), v);
            }
        }
        resp
    }
}

/// axum's `Path`, answering what it can't decode (a percent-encoded segment that is not UTF-8)
/// with Okta's 404 E0000008 instead of axum's text/plain 400: every answer has Okta's error body.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(_) => Err(ApiError::path_not_found()),
        }
    }
}

/// Query parameters in the order they were sent. Okta's `next` links carry the original query plus
/// `after`, so the order and every parameter (even ones the simulator ignores) are kept.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Self {
        Params(
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean query flag as Okta reads it (`true`/`false`, anything else is the default).
    pub fn flag(&self, name: &str, default: bool) -> bool {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            Some("true") => true,
            Some("false") => false,
            _ => default,
        }
    }

    /// `limit` clamped to the endpoint's maximum; a non-number is Okta's 400.
    pub fn limit(&self, default: usize, max: usize) -> ApiResult<usize> {
        match self.get("limit") {
            None | Some("") => Ok(default),
            Some(s) => match s.trim().parse::<i64>() {
                Ok(n) if n < 0 => Ok(default),
                Ok(n) => Ok((n as usize).min(max)),
                Err(_) => Err(ApiError::validation(
                    "limit",
                    format!("limit: The limit parameter must be a number, got '{s}'."),
                )),
            },
        }
    }

    pub fn with(&self, name: &str, value: &str) -> Params {
        let mut out: Vec<_> = self.0.iter().filter(|(k, _)| k != name).cloned().collect();
        out.push((name.to_string(), value.to_string()));
        Params(out)
    }

    pub fn encode(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            s.append_pair(k, v);
        }
        s.finish()
    }
}

/// Builds the two `Link` header lines Okta sends: `rel="self"` always, `rel="next"` when there is more.
pub fn link_headers(
    base_url: &str,
    path: &str,
    params: &Params,
    next_after: Option<&str>,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let url = |p: &Params| {
        let q = p.encode();
        if q.is_empty() {
            format!("{base_url}{path}")
        } else {
            format!("{base_url}{path}?{q}")
        }
    };
    let line = |u: String, rel: &str| HeaderValue::from_str(&format!("<{u}>; rel=\"{rel}\""));
    if let Ok(v) = line(url(params), "self") {
        headers.append(header::LINK, v);
    }
    if let Some(after) = next_after
        && let Ok(v) = line(url(&params.with("after", after)), "next")
    {
        headers.append(header::LINK, v);
    }
    headers
}

/// A page of a list: the items (anything serializable, so hot lists can skip building `Value`s)
/// and the cursor of the next page, if any.
pub struct Page<T = Value> {
    pub items: Vec<T>,
    pub next_after: Option<String>,
}

impl<T: serde::Serialize> Page<T> {
    /// Renders the page as Okta does: a JSON array body with `Link` headers.
    pub fn respond(self, base_url: &str, path: &str, params: &Params) -> Response {
        let headers = link_headers(base_url, path, params, self.next_after.as_deref());
        (headers, axum::Json(self.items)).into_response()
    }
}

/// Cursor pagination over items ordered by a string key (ids sort in creation order). `after` is the
/// key of the last item of the previous page, as Okta's cursors are for users, groups and apps.
pub fn paginate<'a, T: 'a, R>(
    items: impl Iterator<Item = (&'a str, &'a T)>,
    after: Option<&str>,
    limit: usize,
    mut render: impl FnMut(&'a T) -> R,
) -> Page<R> {
    let mut out = Vec::with_capacity(limit.min(1024));
    let mut last_key = None;
    let mut more = false;
    for (key, item) in items.filter(|(k, _)| after.is_none_or(|a| *k > a)) {
        if out.len() == limit {
            more = true;
            break;
        }
        out.push(render(item));
        last_key = Some(key);
    }
    Page {
        items: out,
        next_after: if more {
            last_key.map(str::to_string)
        } else {
            None
        },
    }
}

/// Parses a JSON request body, answering Okta's E0000003 when it is not JSON.
pub fn json_body(bytes: &[u8]) -> ApiResult<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(bytes).map_err(|_| ApiError::malformed_body())
}

/// 200 with a JSON body.
pub fn ok(body: Value) -> ApiResult {
    Ok(axum::Json(body).into_response())
}

/// 204 with no body.
pub fn no_content() -> ApiResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_repeat_the_query_and_add_after() {
        let p = Params::parse(Some("limit=2&search=profile.firstName%20eq%20%22A%22"));
        let h = link_headers("http://x", "/api/v1/users", &p, Some("00u1"));
        let lines: Vec<_> = h.get_all(header::LINK).iter().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "<http://x/api/v1/users?limit=2&search=profile.firstName+eq+%22A%22>; rel=\"self\""
        );
        assert!(
            lines[1]
                .to_str()
                .unwrap()
                .ends_with("&after=00u1>; rel=\"next\"")
        );
    }

    #[test]
    fn paginate_stops_and_resumes() {
        let items = [("a", 1), ("b", 2), ("c", 3)];
        let page = paginate(items.iter().map(|(k, v)| (*k, v)), None, 2, |v| json!(v));
        assert_eq!(page.items, vec![json!(1), json!(2)]);
        assert_eq!(page.next_after.as_deref(), Some("b"));
        let page = paginate(items.iter().map(|(k, v)| (*k, v)), Some("b"), 2, |v| {
            json!(v)
        });
        assert_eq!(page.items, vec![json!(3)]);
        assert!(page.next_after.is_none());
    }

    #[test]
    fn error_body_has_okta_shape() {
        let b = ApiError::not_found("00u1", "User").body();
        assert_eq!(b["errorCode"], "E0000007");
        assert_eq!(b["errorLink"], "E0000007");
        assert!(b["errorId"].as_str().unwrap().starts_with("oae"));
        assert_eq!(b["errorCauses"], json!([]));
    }
}
