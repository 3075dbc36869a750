//! `#[bounded_test]`, the test attribute of aiostreams' integration tests: `#[tokio::test]`
//! with the body run under the tests' timeout, so that a hang fails its test instead of
//! the run.
//!
//! ```text
//! #[bounded_test]                          // tokio::test, body under support::bounded
//! async fn name() { ... }
//!
//! #[bounded_test(start_paused = true)]     // tokio::test's arguments pass through
//! #[bounded_test(limit = BOUND, flavor = "multi_thread")]  // support::bounded_for(BOUND, ..)
//! ```
//!
//! It expands to what the tests wrote by hand before:
//!
//! ```text
//! #[::tokio::test(ARGS)]
//! async fn name() {
//!     crate::support::bounded(async { ... }).await      // or bounded_for(LIMIT, ...)
//! }
//! ```
//!
//! so it needs `tokio` (with `macros`) and a `crate::support` module with `bounded` and
//! `bounded_for` in the crate that uses it. Written on `proc_macro` alone (no `syn`): it
//! only splits the arguments at `limit = ...` and wraps the function's body block.

use proc_macro::{Delimiter, Group, Punct, Spacing, TokenStream, TokenTree};

/// `#[tokio::test]` whose body runs under `crate::support::bounded` (or
/// `bounded_for(LIMIT, ..)` with `limit = LIMIT`); other arguments go to `tokio::test`.
#[proc_macro_attribute]
pub fn bounded_test(args: TokenStream, item: TokenStream) -> TokenStream {
    let (limit, tokio_args) = split_limit(args);
    let mut item: Vec<TokenTree> = item.into_iter().collect();
    let is_async = item
        .iter()
        .any(|t| matches!(t, TokenTree::Ident(i) if i.to_string() == "async"));
    let body = match item.pop() {
        Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace && is_async => body,
        _ => return error("#[bounded_test] goes on an `async fn` with a body"),
    };
    let mut out = tokio_test_attribute(tokio_args);
    out.extend(item);
    out.extend([TokenTree::Group(Group::new(
        Delimiter::Brace,
        bounded_call(limit, body),
    ))]);
    out
}

/// Splits `limit = EXPR` (up to the next top-level comma) off the arguments.
fn split_limit(args: TokenStream) -> (Option<TokenStream>, TokenStream) {
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    let starts_with_limit = matches!(
        tokens.as_slice(),
        [TokenTree::Ident(name), TokenTree::Punct(eq), ..]
            if name.to_string() == "limit" && eq.as_char() == '='
    );
    if !starts_with_limit {
        return (None, tokens.into_iter().collect());
    }
    let rest = &tokens[2..];
    let comma = rest
        .iter()
        .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','));
    let (limit, tokio_args) = match comma {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    (
        Some(limit.iter().cloned().collect()),
        tokio_args.iter().cloned().collect(),
    )
}

/// `#[::tokio::test]`, or `#[::tokio::test(ARGS)]`.
fn tokio_test_attribute(args: TokenStream) -> TokenStream {
    let mut path: TokenStream = "::tokio::test".parse().expect("a path");
    if !args.is_empty() {
        path.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, args))]);
    }
    TokenStream::from_iter([
        TokenTree::Punct(Punct::new('#', Spacing::Alone)),
        TokenTree::Group(Group::new(Delimiter::Bracket, path)),
    ])
}

/// `crate::support::bounded(async BODY).await`, or `bounded_for(LIMIT, async BODY)`.
fn bounded_call(limit: Option<TokenStream>, body: Group) -> TokenStream {
    let mut args = TokenStream::new();
    let function = match limit {
        Some(limit) => {
            args.extend(limit);
            args.extend([TokenTree::Punct(Punct::new(',', Spacing::Alone))]);
            "crate::support::bounded_for"
        }
        None => "crate::support::bounded",
    };
    args.extend("async".parse::<TokenStream>().expect("a keyword"));
    args.extend([TokenTree::Group(body)]);
    let mut call: TokenStream = function.parse().expect("a path");
    call.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, args))]);
    call.extend(".await".parse::<TokenStream>().expect("an await"));
    call
}

/// A `compile_error!` with `message`.
fn error(message: &str) -> TokenStream {
    format!("compile_error!({message:?});")
        .parse()
        .expect("an error")
}
