//! `#[containerize::main(...)]`; use it through the `containerize` crate.
//!
//! Parse, validate, expand. The arguments are read by the same reader and validator as
//! `[package.metadata.containerize]` (crate `containerize-build`), so the attribute, the CLI and
//! build scripts can never disagree; every mistake is a compile error at the argument. On an
//! error the function is left as written, so no second error follows from the first.

use containerize_build::attribute;
use containerize_build::keys::Scope;
use containerize_build::plan::{HEALTHCHECK_FLAG, STOP_SIGNAL_VARIABLE};
use containerize_build::settings::{Signals, read_table};
use containerize_build::{Diagnostic, Origin, SourceFile};
use proc_macro2::{Span, TokenStream};
use quote::quote;

/// Declares a binary's container settings next to its code, and adds the runtime support a
/// minimal image lacks: a built-in healthcheck probe (the image's `HEALTHCHECK` runs the binary
/// itself, so no shell or curl is needed) and, as PID 1, an init that runs the app as its child,
/// passes signals on, reaps orphans and exits with the app's status; the app exits at once on
/// the image's stop signal unless `signals = "app"`. The function is otherwise untouched: its
/// arguments, return type and errors behave as before; it may be `async` (under
/// `#[tokio::main]`, on either side of this attribute).
///
/// ```ignore
/// #[containerize::main(expose = 8080, healthcheck(path = "/healthz"))]
/// fn main() -> std::io::Result<()> { serve() }
/// ```
#[proc_macro_attribute]
pub fn main(args: proc_macro::TokenStream, item: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let item = TokenStream::from(item);
    match expand(args.into(), item.clone()) {
        Ok(expanded) => expanded.into(),
        Err(error) => {
            let errors = error.to_compile_error();
            quote!(#errors #item).into()
        }
    }
}

fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let function: syn::ItemFn = syn::parse2(item)
        .map_err(|e| syn::Error::new(e.span(), "#[containerize::main] goes on the binary's `fn main`"))?;
    validate_function(&function)?;
    let signals = read_arguments(args)?;
    let signals = match signals {
        Signals::Exit => quote!(::containerize::__private::Signals::Exit),
        Signals::App => quote!(::containerize::__private::Signals::App),
    };
    let syn::ItemFn { attrs, vis, sig, block } = function;
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            ::containerize::__private::start(#signals, #HEALTHCHECK_FLAG, #STOP_SIGNAL_VARIABLE);
            #block
        }
    })
}

fn validate_function(function: &syn::ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    if sig.ident != "main" {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            "#[containerize::main] goes on `fn main`, not on other functions",
        ));
    }
    if !sig.inputs.is_empty() || !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&sig.inputs, "`fn main` takes no arguments or generics"));
    }
    Ok(())
}

/// Reads the arguments with the settings reader; every diagnostic, warnings included, is a
/// compile error at the argument it concerns.
fn read_arguments(args: TokenStream) -> syn::Result<Signals> {
    let mut spans: Vec<Span> = Vec::new();
    // Each node's "byte range" is the index of its span here, to find it again.
    let mut span_of = |first: Span, _last: Span| {
        spans.push(first);
        spans.len() - 1..spans.len()
    };
    let node = attribute::arguments(args, &mut span_of)?;
    let file = SourceFile::new("#[containerize::main]", "");
    let mut diagnostics = Vec::new();
    let settings = read_table(&node, &file, Scope::Attribute, &mut diagnostics);
    let errors = diagnostics.iter().map(|d| syn::Error::new(span(d, &spans), message(d)));
    match errors.reduce(|mut all, e| {
        all.combine(e);
        all
    }) {
        Some(errors) => Err(errors),
        None => Ok(settings.signals.map(|s| s.value).unwrap_or_default()),
    }
}

fn span(diagnostic: &Diagnostic, spans: &[Span]) -> Span {
    match &diagnostic.origin {
        Origin::File { span, .. } => spans.get(span.start).copied().unwrap_or_else(Span::call_site),
        _ => Span::call_site(),
    }
}

fn message(diagnostic: &Diagnostic) -> String {
    match &diagnostic.help {
        Some(help) => format!("{}\n  = help: {help}", diagnostic.message),
        None => diagnostic.message.clone(),
    }
}
