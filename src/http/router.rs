//! Exact-path routing: a table of `(method, pattern) → handler`.
//!
//! Patterns use `{name}` parameters and match whole, already-decoded paths; there is no
//! prefix matching and no trailing-slash rewriting. A path that matches with another method
//! is a 405, anything else a 404.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::Method;

use super::App;
use super::reply::ApiResult;
use super::request::Ctx;

/// A boxed handler future.
pub type HandlerFuture = Pin<Box<dyn Future<Output = ApiResult> + Send>>;

/// A type-erased handler.
pub type Handler = Box<dyn Fn(Arc<App>, Ctx) -> HandlerFuture + Send + Sync>;

/// What routing decided for one request.
pub enum Routed<'a> {
    Found(&'a Handler, Vec<(String, String)>),
    MethodNotAllowed,
    NotFound,
}

/// Collects routes, then freezes them into a matcher.
#[derive(Default)]
pub struct RouterBuilder {
    routes: BTreeMap<String, Vec<(Method, Handler)>>,
}

impl RouterBuilder {
    /// Adds a handler for `method` on `pattern`.
    pub fn route<F, Fut>(mut self, method: Method, pattern: &str, handler: F) -> Self
    where
        F: Fn(Arc<App>, Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ApiResult> + Send + 'static,
    {
        let boxed: Handler = Box::new(move |app, ctx| Box::pin(handler(app, ctx)));
        self.routes.entry(pattern.to_string()).or_default().push((method, boxed));
        self
    }

    /// Builds the matcher; a malformed or duplicate pattern is a programming error.
    pub fn build(self) -> Router {
        let mut inner = matchit::Router::new();
        let mut patterns = Vec::new();
        for (pattern, handlers) in self.routes {
            patterns.extend(handlers.iter().map(|(m, _)| (m.to_string(), pattern.clone())));
            if let Err(e) = inner.insert(pattern.clone(), handlers) {
                panic!("route pattern {pattern} is invalid: {e}");
            }
        }
        Router { inner, patterns }
    }
}

/// The frozen route table.
pub struct Router {
    inner: matchit::Router<Vec<(Method, Handler)>>,
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the OpenAPI test only"))]
    patterns: Vec<(String, String)>,
}

impl Router {
    /// Finds the handler for a decoded path and method.
    pub fn find(&self, method: &Method, path: &str) -> Routed<'_> {
        let Ok(matched) = self.inner.at(path) else { return Routed::NotFound };
        let params: Vec<(String, String)> =
            matched.params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let exact = matched.value.iter().find(|(m, _)| m == method);
        // HEAD falls back to GET; the dispatcher drops the body.
        let fallback =
            || matched.value.iter().find(|(m, _)| *method == Method::HEAD && m == Method::GET);
        match exact.or_else(fallback) {
            Some((_, handler)) => Routed::Found(handler, params),
            None => Routed::MethodNotAllowed,
        }
    }

    /// Every registered (method, pattern), for the OpenAPI document's consistency test.
    #[cfg(test)]
    pub fn patterns(&self) -> &[(String, String)] {
        &self.patterns
    }
}
